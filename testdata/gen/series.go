package main

import "fmt"

// The patch series of sample.mbox. Every change is computed on a tree that
// starts as baseTree(), so "base + v2 series + fix + attachment" and
// "base + liburing series" apply with git am (checked by hand, see README).

const (
	net = "io_uring/net.c"
	rw  = "io_uring/rw.c"
)

func sob(person string) string { return "Signed-off-by: " + person + "\n" }

// netSeries returns patches 1–3 of the io_uring/net series; v2 changes
// patch 2 only, so patches 1 and 3 keep identical diffs (and patch-ids).
func netSeries(t tree, v2 bool, tags1, tags2, tags3 string) []change {
	p1 := t.patch("io_uring/net: add io_net_retry() helper",
		"io_sendmsg() and io_recvmsg() open-code the same MSG_WAITALL retry\n"+
			"condition. Move it into a helper so the two cannot drift apart.\n\n"+tags1+sob(alice),
		edit{net, "int io_sendmsg(struct io_kiocb *req", `static bool io_net_retry(struct socket *sock, int flags)
{
	if (!(flags & MSG_WAITALL))
		return false;
	return sock->type == SOCK_STREAM || sock->type == SOCK_SEQPACKET;
}

int io_sendmsg(struct io_kiocb *req`},
		edit{net, `	ret = __sys_sendmsg_sock(sock, &kmsg->msg, flags);
	if (ret > 0 && (flags & MSG_WAITALL) &&
	    (sock->type == SOCK_STREAM || sock->type == SOCK_SEQPACKET)) {
`, `	ret = __sys_sendmsg_sock(sock, &kmsg->msg, flags);
	if (ret > 0 && io_net_retry(sock, flags)) {
`},
		edit{net, `	ret = __sys_recvmsg_sock(sock, &kmsg->msg, sr->buf, flags);
	if (ret > 0 && (flags & MSG_WAITALL) &&
	    (sock->type == SOCK_STREAM || sock->type == SOCK_SEQPACKET)) {
`, `	ret = __sys_recvmsg_sock(sock, &kmsg->msg, sr->buf, flags);
	if (ret > 0 && io_net_retry(sock, flags)) {
`})
	old2 := `	sr->flags = READ_ONCE(sqe->ioprio);
	sr->msg_flags = READ_ONCE(sqe->msg_flags) | MSG_NOSIGNAL;
	sr->done_io = 0;
	return 0;
}
`
	var p2 change
	if !v2 {
		p2 = t.patch("io_uring/net: reject unknown flags in io_send_prep()",
			"Unknown bits in sqe->ioprio are silently ignored today, which makes\n"+
				"it impossible to add new send flags later. Reject them.\n\n"+tags2+sob(alice),
			edit{net, old2, `	sr->flags = READ_ONCE(sqe->ioprio);
	if (sr->flags & ~IORING_RECVSEND_POLL_FIRST)
		return -EINVAL;
	sr->msg_flags = READ_ONCE(sqe->msg_flags) | MSG_NOSIGNAL;
	sr->done_io = 0;
	return 0;
}
`})
	} else {
		p2 = t.patch("io_uring/net: reject unknown flags in io_send_prep()",
			"Unknown bits in sqe->ioprio are silently ignored today, which makes\n"+
				"it impossible to add new send flags later. Reject anything outside\n"+
				"SENDMSG_FLAGS; IORING_RECVSEND_FIXED_BUF stays valid for send.\n\n"+tags2+sob(alice),
			edit{net, "int io_send_prep(", "#define SENDMSG_FLAGS (IORING_RECVSEND_POLL_FIRST | IORING_RECVSEND_FIXED_BUF)\n\nint io_send_prep("},
			edit{net, old2, `	sr->flags = READ_ONCE(sqe->ioprio);
	if (sr->flags & ~SENDMSG_FLAGS)
		return -EINVAL;
	sr->msg_flags = READ_ONCE(sqe->msg_flags) | MSG_NOSIGNAL;
	sr->done_io = 0;
	return 0;
}
`})
	}
	p3 := t.patch("io_uring: read sqe fields with READ_ONCE()",
		"The SQE lives in memory shared with userspace, so every field must be\n"+
			"read exactly once. Two plain loads slipped through.\n\n"+tags3+sob(alice),
		edit{net, "\tsr->buf_group = sqe->buf_index;\n", "\tsr->buf_group = READ_ONCE(sqe->buf_index);\n"},
		edit{rw, "\trw->addr = sqe->addr;\n", "\trw->addr = READ_ONCE(sqe->addr);\n"})
	return []change{p1, p2, p3}
}

const uafFixes = `Fixes: 0123456789ab ("io_uring: add io_rw_done() helper")`

// uafFix is the single use-after-free fix; header is what precedes the
// commit message (empty upstream, "commit X upstream." for a backport).
func uafFix(t tree, header, syzID string) change {
	return t.patch("io_uring: fix use-after-free in io_rw_done()", header+
		"io_req_task_complete() may free the request, and with it the io_rw\n"+
		"command data, before io_rw_done() reads rw->iter_state. Free the\n"+
		"iterator state first.\n\n"+uafFixes+"\n"+
		"Cc: stable@vger.kernel.org # 6.1+\n"+
		"Reported-by: syzbot+5e1c1b2a3d4f6e7a8b9c@syzkaller.example.com\n"+
		"Closes: https://lore.kernel.org/r/"+syzID+"/\n"+sob(dave),
		edit{rw, "\tio_req_task_complete(req);\n\tkfree(rw->iter_state);\n", "\tkfree(rw->iter_state);\n\tio_req_task_complete(req);\n"})
}

// attachedPatch is sent as a text/x-patch attachment.
func attachedPatch(t tree) change {
	return t.patch("io_uring/rw: drop impossible NULL check in io_rw_should_retry()",
		"kiocb points into the request and can never be NULL.\n\n"+sob(frank),
		edit{rw, "\tif (!kiocb)\n\t\treturn false;\n", ""})
}

// liburingSeries returns the two liburing patches (the second adds a file).
func liburingSeries(t tree) []change {
	p1 := t.patch("queue: don't spin on overflow flush in io_uring_peek_batch_cqe()",
		"If the kernel reports CQ overflow but the flush does not make room,\n"+
			"we retried forever with IORING_SETUP_CQE32. Only retry once, and\n"+
			"clamp count before shifting.\n\n"+sob(grace),
		edit{"src/queue.c", "\t\tcount = count > ready ? ready : count;\n", "\t\tif (count > ready)\n\t\t\tcount = ready;\n"},
		edit{"src/queue.c", "\tif (cq_ring_needs_flush(ring)) {\n", "\tif (!overflow_checked && cq_ring_needs_flush(ring)) {\n"})
	p2 := t.patch("test/peek-batch: add CQE32 overflow regression test",
		"Fill the CQ ring past its size on a CQE32 ring and check that\n"+
			"io_uring_peek_batch_cqe() returns instead of looping.\n\n"+sob(grace),
		edit{"test/peek-batch.c", "", peekBatchC})
	return []change{p1, p2}
}

const peekBatchC = `/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include "liburing.h"
#include "helpers.h"

int main(int argc, char *argv[])
{
	struct io_uring_cqe *cqes[16];
	struct io_uring ring;
	unsigned got;
	int i, ret;

	ret = io_uring_queue_init(4, &ring, IORING_SETUP_CQE32);
	if (ret)
		return T_EXIT_SKIP;
	for (i = 0; i < 8; i++)
		io_uring_prep_nop(io_uring_get_sqe(&ring));
	io_uring_submit(&ring);
	got = io_uring_peek_batch_cqe(&ring, cqes, 16);
	if (got > 8) {
		fprintf(stderr, "got %u cqes\n", got);
		return T_EXIT_FAIL;
	}
	io_uring_queue_exit(&ring);
	return T_EXIT_PASS;
}
`

// rfcSplice is an RFC patch adding a new file to the kernel tree.
func rfcSplice(t tree) change {
	return t.patch("io_uring: add IORING_OP_SPLICE_ZC",
		"Sketch of a zero-copy splice opcode, for discussion only.\n\n"+sob(ivan),
		edit{"io_uring/splice_zc.c", "", `// SPDX-License-Identifier: GPL-2.0
#include <linux/kernel.h>
#include <linux/splice.h>
#include <linux/io_uring.h>

#include "io_uring.h"

int io_splice_zc(struct io_kiocb *req, unsigned int issue_flags)
{
	return -EOPNOTSUPP;
}
`})
}

// appliedNote is a b4 "ty"-style reply body listing commits.
func appliedNote(cs []change, shas []string) string {
	s := "\nApplied, thanks!\n\n"
	for i, c := range cs {
		s += fmt.Sprintf("[%d/%d] %s\n      commit: %s\n", i+1, len(cs), c.subject, shas[i])
	}
	return s + "\nBest regards,\n-- \nErin Maintainer <erin@example.org>\n"
}
