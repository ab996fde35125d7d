// SPDX-License-Identifier: GPL-2.0
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
