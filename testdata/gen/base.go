package main

// baseTree is the tree every patch in sample.mbox applies to: a kernel-like
// io_uring/ and a liburing-like src/, side by side so one repository serves.
func baseTree() tree {
	return tree{
		"io_uring/net.c":  netC,
		"io_uring/rw.c":   rwC,
		"src/queue.c":     queueC,
		"README.fixtures": "Base tree for patchtrail's sample.mbox; see testdata/README.md.\n",
	}
}

const netC = `// SPDX-License-Identifier: GPL-2.0
#include <linux/kernel.h>
#include <linux/errno.h>
#include <linux/net.h>
#include <linux/io_uring.h>

#include "io_uring.h"
#include "kbuf.h"
#include "net.h"

struct io_sr_msg {
	struct file			*file;
	void __user			*buf;
	size_t				len;
	unsigned			flags;
	unsigned			msg_flags;
	u16				buf_group;
	int				done_io;
};

int io_sendmsg_prep(struct io_kiocb *req, const struct io_uring_sqe *sqe)
{
	struct io_sr_msg *sr = io_kiocb_to_cmd(req, struct io_sr_msg);

	sr->buf = u64_to_user_ptr(READ_ONCE(sqe->addr));
	sr->len = READ_ONCE(sqe->len);
	sr->buf_group = sqe->buf_index;
	sr->msg_flags = READ_ONCE(sqe->msg_flags) | MSG_NOSIGNAL;
	sr->done_io = 0;
	return 0;
}

int io_sendmsg(struct io_kiocb *req, unsigned int issue_flags)
{
	struct io_sr_msg *sr = io_kiocb_to_cmd(req, struct io_sr_msg);
	struct io_async_msghdr *kmsg = req->async_data;
	struct socket *sock = sock_from_file(req->file);
	unsigned flags = sr->msg_flags;
	int ret;

	if (issue_flags & IO_URING_F_NONBLOCK)
		flags |= MSG_DONTWAIT;
	ret = __sys_sendmsg_sock(sock, &kmsg->msg, flags);
	if (ret > 0 && (flags & MSG_WAITALL) &&
	    (sock->type == SOCK_STREAM || sock->type == SOCK_SEQPACKET)) {
		sr->done_io += ret;
		return -EAGAIN;
	}
	io_req_set_res(req, ret, 0);
	return IOU_OK;
}

int io_recvmsg(struct io_kiocb *req, unsigned int issue_flags)
{
	struct io_sr_msg *sr = io_kiocb_to_cmd(req, struct io_sr_msg);
	struct io_async_msghdr *kmsg = req->async_data;
	struct socket *sock = sock_from_file(req->file);
	unsigned flags = sr->msg_flags;
	int ret;

	if (issue_flags & IO_URING_F_NONBLOCK)
		flags |= MSG_DONTWAIT;
	ret = __sys_recvmsg_sock(sock, &kmsg->msg, sr->buf, flags);
	if (ret > 0 && (flags & MSG_WAITALL) &&
	    (sock->type == SOCK_STREAM || sock->type == SOCK_SEQPACKET)) {
		sr->done_io += ret;
		return -EAGAIN;
	}
	io_req_set_res(req, ret, 0);
	return IOU_OK;
}

int io_send_prep(struct io_kiocb *req, const struct io_uring_sqe *sqe)
{
	struct io_sr_msg *sr = io_kiocb_to_cmd(req, struct io_sr_msg);

	sr->buf = u64_to_user_ptr(READ_ONCE(sqe->addr));
	sr->len = READ_ONCE(sqe->len);
	sr->flags = READ_ONCE(sqe->ioprio);
	sr->msg_flags = READ_ONCE(sqe->msg_flags) | MSG_NOSIGNAL;
	sr->done_io = 0;
	return 0;
}
`

const rwC = `// SPDX-License-Identifier: GPL-2.0
#include <linux/kernel.h>
#include <linux/fs.h>
#include <linux/io_uring.h>

#include "io_uring.h"
#include "rw.h"

struct io_rw {
	struct kiocb			kiocb;
	u64				addr;
	u32				len;
	rwf_t				flags;
	struct iov_iter_state		*iter_state;
};

int io_prep_rw(struct io_kiocb *req, const struct io_uring_sqe *sqe)
{
	struct io_rw *rw = io_kiocb_to_cmd(req, struct io_rw);

	rw->kiocb.ki_pos = READ_ONCE(sqe->off);
	rw->addr = sqe->addr;
	rw->len = READ_ONCE(sqe->len);
	rw->flags = READ_ONCE(sqe->rw_flags);
	return 0;
}

static void io_rw_done(struct io_kiocb *req, long ret)
{
	struct io_rw *rw = io_kiocb_to_cmd(req, struct io_rw);

	io_req_set_res(req, ret, 0);
	io_req_task_complete(req);
	kfree(rw->iter_state);
}

static bool io_rw_should_retry(struct io_kiocb *req)
{
	struct io_rw *rw = io_kiocb_to_cmd(req, struct io_rw);
	struct kiocb *kiocb = &rw->kiocb;

	if (!kiocb)
		return false;
	if (req->flags & REQ_F_NOWAIT)
		return false;
	if (kiocb->ki_flags & (IOCB_DIRECT | IOCB_HIPRI))
		return false;
	return file_can_poll(req->file) == false;
}
`

const queueC = `/* SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200112L

#include "lib.h"
#include "syscall.h"
#include "liburing.h"
#include "int_flags.h"

static inline bool cq_ring_needs_flush(struct io_uring *ring)
{
	return IO_URING_READ_ONCE(*ring->sq.kflags) & IORING_SQ_CQ_OVERFLOW;
}

unsigned io_uring_peek_batch_cqe(struct io_uring *ring,
				 struct io_uring_cqe **cqes, unsigned count)
{
	unsigned ready;
	bool overflow_checked = false;
	int shift = 0;

	if (ring->flags & IORING_SETUP_CQE32)
		shift = 1;
again:
	ready = io_uring_cq_ready(ring);
	if (ready) {
		unsigned head = *ring->cq.khead;
		unsigned mask = ring->cq.ring_mask;
		unsigned last;
		int i = 0;

		count = count > ready ? ready : count;
		last = head + count;
		for (;head != last; head++, i++)
			cqes[i] = &ring->cq.cqes[(head & mask) << shift];
		return count;
	}

	if (overflow_checked)
		return 0;

	if (cq_ring_needs_flush(ring)) {
		__sys_io_uring_enter(ring->enter_ring_fd, 0, 0,
				     IORING_ENTER_GETEVENTS, NULL);
		overflow_checked = true;
		goto again;
	}
	return 0;
}
`
