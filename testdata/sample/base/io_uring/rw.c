// SPDX-License-Identifier: GPL-2.0
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
