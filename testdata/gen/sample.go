package main

import "fmt"

// buildSample returns sample.mbox's messages in file order (which is not
// always date order: see the fix thread).
func buildSample() []*msg {
	a := &archive{}
	mime := []string{"MIME-Version: 1.0", "Content-Type: text/plain; charset=UTF-8", "Content-Transfer-Encoding: 8bit"}

	// (a) v1 of the io_uring/net series and (b) its review.
	v1 := netSeries(baseTree(), false, "", "", "")
	c1, p1 := a.series(alice, "PATCH", "io_uring/net: tidy up send/recv flag handling", at("2024-01-15 10:00:00 +0100"),
		"Hi,\n\nA few small cleanups to the send/recv paths that fell out of looking\n"+
			"at short sends with MSG_WAITALL. Patch 1 adds a helper, patch 2 starts\n"+
			"validating send flags, patch 3 is a READ_ONCE() fix.\n\n", nil, v1...)
	bobRev := a.review(p1[0], bob, at("2024-01-15 14:12:09 -0500"), "+static bool io_net_retry", "+}",
		"\nNice, this was overdue.\n\nReviewed-by: "+bob+"\n")
	carolRev := a.review(p1[1], carol, at("2024-01-16 09:30:41 +0000"), "sr->flags = READ_ONCE", "return -EINVAL",
		"\nThis also rejects IORING_RECVSEND_FIXED_BUF, which send supports.\n"+
			"Please check against a mask of the valid flags instead.\n")
	a.review(carolRev, alice, at("2024-01-16 11:02:13 +0100"), "This also rejects", "Please check",
		"\nGood catch, thanks. Will fix in v2.\n")
	a.review(c1, dave, at("2024-01-17 18:45:00 -0800"), "A few small cleanups", "validating send flags",
		"\nRan the liburing test suite with the series applied, no regressions.\n\nTested-by: "+dave+"\n")
	a.review(p1[2], bob, at("2024-01-17 20:01:55 -0500"), "The SQE lives", "read exactly once",
		"\nReviewed-by: "+bob+"\n")
	// (j) Same subject, outside the thread: no In-Reply-To/References.
	a.add(&msg{from: frank, subject: "Re: " + c1.subject, date: at("2024-01-18 07:15:30 +0200"),
		id:   "CAFrank0x1234abcd+tidyup@mail.example.com",
		body: "Is this series related to the short send regression I reported last\nweek? I lost the original mail, sorry for breaking the thread.\n\nFrank\n"})

	// syzbot report that the fix below Closes.
	syz := a.add(&msg{from: syzbot, subject: "[syzbot] [io-uring?] KASAN: slab-use-after-free Read in io_rw_done",
		date: at("2024-01-20 03:12:19 -0800"), id: "000000000000a1b2c3d4e5f60718@google.example.com",
		body: "Hello,\n\nsyzbot found the following issue on:\n\nHEAD commit:    3f5e2a1b7c9d Linux 6.8-rc1\n\n" +
			"==================================================================\n" +
			"BUG: KASAN: slab-use-after-free in io_rw_done+0x8c/0x110 io_uring/rw.c:34\n" +
			"Read of size 8 at addr ffff88801d2a4c40 by task syz-executor.0/5123\n\n" +
			"Call Trace:\n io_rw_done+0x8c/0x110 io_uring/rw.c:34\n io_complete_rw+0x5e/0x90 io_uring/rw.c:41\n" +
			"==================================================================\n\n" +
			"IMPORTANT: if you fix the issue, please add the following tag to the commit:\n" +
			"Reported-by: syzbot+5e1c1b2a3d4f6e7a8b9c@syzkaller.example.com\n"})
	a.reply(syz, erin, at("2024-01-20 09:40:00 -0700"), "Looks like the iter_state free after completion. Dave, can you take it?\n")

	// (c) v2: new thread, Link: to v1, b4 trailers; patch 2 changed.
	v2 := netSeries(baseTree(), true, "Reviewed-by: "+bob+"\nTested-by: "+dave+"\n", "", "Reviewed-by: "+bob+"\n")
	c2, p2 := a.series(alice, "PATCH v2", "io_uring/net: tidy up send/recv flag handling", at("2024-02-01 09:30:00 +0100"),
		"Hi,\n\nA few small cleanups to the send/recv paths.\n\n"+
			"Changes since v1:\n- Patch 2: check against SENDMSG_FLAGS so FIXED_BUF stays valid (Carol)\n"+
			"- Collected Reviewed-by and Tested-by tags\n\n"+
			"Link: https://lore.kernel.org/r/"+c1.id+"\n"+
			"change-id: 20240115-net-flags-3f9a1c2d4e5b\n"+
			"base-commit: 6613476e225e090cc9aad49be7fa504e290dd33d\n\n",
		map[int]string{2: "v2: use a SENDMSG_FLAGS mask (Carol)"}, v2...)
	carolV2 := a.replyMsg(p2[1], carol, at("2024-02-01 16:20:00 +0000"), "Looks good now.\n\nReviewed-by: "+carol+"\n")
	a.add(carolV2)
	a.reply(c2, ivan, at("2024-02-02 08:00:00 +0100"), "For the networking side:\n\nAcked-by: "+ivan+"\n")
	a.reply(c2, erin, at("2024-02-05 12:00:00 -0700"), fmt.Sprintf("On %s, Alice Example wrote:\n%s",
		c2.date.Format("Mon, 02 Jan 2006 15:04:05 -0700"), quote("A few small cleanups to the send/recv paths.")+
			appliedNote(v2, []string{"4a7b2c1d9e8f0a6b5c4d3e2f1a0b9c8d7e6f5a4b", "9c3e1f2a4b5d6e7f8091a2b3c4d5e6f708192a3b",
				"c0ffee1234567890abcdef1234567890abcdef12"})))

	// (d) Single fix; a review reply comes first in the file (ghost parent).
	kernel := baseTree()
	netSeries(kernel, true, "", "", "")
	fixChange := uafFix(kernel, "", syz.id)
	fd := at("2024-02-05 15:00:00 -0800")
	fix := &msg{from: dave, to: list, cc: erin + ", " + syzbot, subject: "[PATCH] " + fixChange.subject, date: fd,
		id: a.newID(dave, fd, 1), body: formatPatch(fixChange, ""), hdr: []string{"X-Mailer: git-send-email 2.43.0"}}
	a.review(fix, bob, at("2024-02-06 08:30:00 -0500"), "io_req_task_complete() may free", "iterator state first.",
		"\nReviewed-by: "+bob+"\n")
	a.add(fix)
	a.reply(fix, frank, at("2024-02-06 10:10:10 +0200"), "Survived a night of the reproducer.\n\nTested-by: "+frank+"\n")
	a.reply(fix, erin, at("2024-02-06 12:00:00 -0700"), "Applied to io_uring-6.8, thanks.\n")

	// Stable backport: same diff, so the same patch-id, against base.
	bp := uafFix(baseTree(), "commit 8b4e0f9f1d2c3b4a5e6f708192a3b4c5d6e7f809 upstream.\n\n", syz.id)
	bpMsg := a.post(dave, "[PATCH 6.1.y] "+bp.subject, at("2024-02-20 10:00:00 -0800"), formatPatch(bp, ""))
	bpMsg.cc = "stable@vger.kernel.org"
	a.reply(bpMsg, greg, at("2024-02-21 09:00:00 +0100"), "Now queued up, thanks.\n\ngreg s-h\n")

	// (e) liburing v2 series.
	lib := liburingSeries(baseTree())
	lc, lp := a.series(grace, "PATCH liburing v2", "peek_batch_cqe overflow fix", at("2024-02-08 11:00:00 +0000"),
		"Fixes a livelock in io_uring_peek_batch_cqe() on CQE32 rings, plus a test.\n\nv2: clamp count before shifting.\n\n", nil, lib...)
	a.review(lp[0], bob, at("2024-02-08 15:00:00 -0500"), "If the kernel reports", "clamp count", "\nReviewed-by: "+bob+"\n")
	a.reply(lc, erin, at("2024-02-09 07:00:00 -0700"), "Applied, thanks.\n")

	// (f) Pull request and the tracker bot's answer.
	pull := a.add(&msg{from: erin, to: tor, cc: list, subject: "[GIT PULL] io_uring fixes for 6.8-rc5",
		date: at("2024-02-16 14:00:00 -0700"), id: "f00dcafe-1234-4abc-9def-io-uring-6.8-rc5@example.org",
		body: "Hi Tor,\n\nTwo fixes for this week: the io_rw_done() use-after-free found by syzbot,\nand the net flag cleanup.\n\n" +
			"The following changes since commit 841c35169323cd833294798e58b9bf63fa4fa1de:\n\n  Linux 6.8-rc4 (2024-02-11 12:18:13 -0800)\n\n" +
			"are available in the Git repository at:\n\n  git://git.example.org/pub/scm/linux/kernel/git/erin/linux.git tags/io_uring-6.8-2024-02-16\n\n" +
			"for you to fetch changes up to 8b4e0f9f1d2c3b4a5e6f708192a3b4c5d6e7f809:\n\n  " + fixChange.subject + " (2024-02-06 12:00:00 -0700)\n\n" +
			"----------------------------------------------------------------\n" +
			"Dave Hacker (1):\n      " + fixChange.subject + "\n\n io_uring/rw.c | 2 +-\n 1 file changed, 1 insertion(+), 1 deletion(-)\n"})
	a.reply(pull, prbot, at("2024-02-16 22:30:00 +0000"), "The pull request you sent on Fri, 16 Feb 2024:\n\n"+
		"> git://git.example.org/pub/scm/linux/kernel/git/erin/linux.git tags/io_uring-6.8-2024-02-16\n\n"+
		"has been merged into tor/linux.git:\nhttps://git.example.org/tor/c/aa11bb22cc33dd44ee55ff6677889900aabbccdd\n")

	// (g) Unknown charset with Latin-1 bytes; RFC 2047 ISO-8859-1 subject and From.
	l1 := a.add(&msg{from: "=?ISO-8859-1?Q?J=F6rg_M=FCller?= <joerg@example.de>",
		subject: "=?ISO-8859-1?Q?io=5Furing_latency_regression_on_J=F6rg's_box?=",
		date:    at("2024-02-12 13:37:00 +0100"), id: "87le0n1.fsf@joerg.example.de",
		hdr:  []string{"MIME-Version: 1.0", `Content-Type: text/plain; charset="x-unknown-foo"`, "Content-Transfer-Encoding: 8bit"},
		body: "Hallo,\n\nsince 6.8-rc3 I see 20% higher latency with SQPOLL. Gr\xfc\xdfe,\nJ\xf6rg (M\xfcller)\n"})
	l1r := a.reply(l1, erin, at("2024-02-12 15:00:00 -0700"), "Can you bisect? A perf trace would help too.\n")
	l1r.subject = "=?UTF-8?Q?Re:_io=5Furing_latency_regression_on_J=C3=B6rg's_box?="
	l1r.hdr = append(mime, l1r.hdr...)

	// (h) No Message-ID at all.
	a.add(&msg{from: judy, subject: "io_uring and epoll: which one for a TCP proxy?", date: at("2024-03-01 22:10:00 -0500"),
		body: "Hi all,\n\nI'm writing a small TCP proxy. Is io_uring worth it over epoll for\n~10k connections, or is that premature?\n\nThanks,\nJudy\n"})

	// (i) Body lines that start with "From " and ">From " (mboxrd-escaped in the file).
	a.post(frank, "io_uring_prep_send(3) man page wording", at("2024-03-04 09:00:00 +0200"),
		"Hi,\n\nFrom the man page I cannot tell whether MSG_WAITALL is honoured.\n\n"+
			"Someone on IRC wrote:\n>From 6.0 on it is, see io_net_retry().\n>>From what I remember, only for stream sockets.\n\n"+
			"From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\n"+
			"(that line above is pasted from git format-patch output)\n")

	// (k) A patch as a text/x-patch attachment in multipart/mixed.
	att := attachedPatch(kernel) // on top of v2 and the fix
	d := at("2024-03-06 17:45:00 +0200")
	attBody := fmt.Sprintf("From 5f1e2d3c4b5a69788796a5b4c3d2e1f001122334 Mon Sep 17 00:00:00 2001\nFrom: %s\nDate: %s\nSubject: [PATCH] %s\n\n%s",
		frank, d.Format("Mon, 2 Jan 2006 15:04:05 -0700"), att.subject, formatPatch(att, ""))
	a.post(frank, "[PATCH] "+att.subject, d, "--b0undary-42\nContent-Type: text/plain; charset=UTF-8\n\n"+
		"My mailer mangles inline patches, so it's attached. Sorry!\n\n--b0undary-42\n"+
		"Content-Type: text/x-patch; charset=UTF-8; name=\"0001-io_uring-rw-drop-impossible-NULL-check.patch\"\n"+
		"Content-Disposition: attachment; filename=\"0001-io_uring-rw-drop-impossible-NULL-check.patch\"\n"+
		"Content-Transfer-Encoding: 8bit\n\n"+attBody+"\n--b0undary-42--\n",
		"MIME-Version: 1.0", `Content-Type: multipart/mixed; boundary="b0undary-42"`)

	// (l) HTML and script in headers and body, for web escaping tests.
	x := a.add(&msg{from: `"Mallory <script>alert(1)</script>" <mallory@example.net>`,
		subject: `<script>alert(1)</script> io_uring docs & "quotes" <b>bold</b>`,
		date:    at("2024-03-08 12:00:00 +0000"), id: `xss"onmouseover=alert(5)@example.net`,
		hdr: []string{"MIME-Version: 1.0", `Content-Type: multipart/alternative; boundary="alt-7"`},
		body: "--alt-7\nContent-Type: text/plain; charset=UTF-8\n\n<script>alert(1)</script>\n<img src=x onerror=alert(2)>\n" +
			"See javascript:alert(3) and https://example.org/?a=1&b=<2>\n\n--alt-7\nContent-Type: text/html; charset=UTF-8\n\n" +
			"<html><body><script>alert(1)</script><a href=\"javascript:alert(3)\">docs</a></body></html>\n--alt-7--\n"})
	a.reply(x, bob, at("2024-03-08 13:00:00 -0500"), "Please don't send HTML to the list.\n")

	// (m) An exact duplicate, and the same Message-ID with different content.
	a.msgs = append(a.msgs, bobRev)
	changed := *carolV2
	changed.body = "Looks good now.\n\nReviewed-by: " + carol + "\n\n(resent: my first reply was missing the list)\n"
	a.msgs = append(a.msgs, &changed)

	// An RFC patch with discussion.
	rfc := rfcSplice(baseTree())
	_, rp := a.series(ivan, "RFC PATCH", "", at("2024-03-12 10:00:00 +0100"), "", nil, rfc)
	r1 := a.reply(rp[0], erin, at("2024-03-12 18:00:00 -0600"), "What would this do that SEND_ZC plus a pipe can't?\n")
	r2 := a.reply(r1, ivan, at("2024-03-13 09:00:00 +0100"), "Avoid the pipe entirely; numbers to follow.\n")
	a.reply(r2, bob, at("2024-03-13 11:00:00 -0500"), "Please include numbers with the next version.\n")

	fillers(a)
	return a.msgs
}
