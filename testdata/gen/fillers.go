package main

import "strings"

// post is one message of a plain discussion; parent indexes the thread's
// earlier posts (-1 = thread root). Replies quote their parent's first line.
type post struct {
	parent     int
	from, date string
	text       string
}

var discussions = []struct {
	subject string
	posts   []post
}{
	{"io_uring: SQPOLL thread pinned at 100% CPU on idle ring", []post{
		{-1, frank, "2024-01-22 08:00:00 +0200", "With IORING_SETUP_SQPOLL and sq_thread_idle=2000 the kernel thread never\nsleeps on 6.7, even with nothing submitted for minutes. 6.6 was fine."},
		{0, erin, "2024-01-22 09:10:00 -0700", "Do you have IORING_SETUP_SQ_AFF set? And is the ring shared with\nanother ring via IORING_SETUP_ATTACH_WQ?"},
		{1, frank, "2024-01-22 19:30:00 +0200", "Yes to SQ_AFF, no ATTACH_WQ. Pinning it to CPU 3."},
		{2, bob, "2024-01-22 10:20:00 -0500", "I can reproduce on 6.7 too. The idle timeout is checked in jiffies and\nthe comparison looks inverted after the timeout rework."},
		{3, erin, "2024-01-23 07:45:00 -0700", "Right, that's it. Bob, care to send a patch with a Fixes tag?"},
		{3, ivan, "2024-01-23 10:00:00 +0100", "Same on arm64, for what it's worth."},
		{4, bob, "2024-01-23 12:00:00 -0500", "Will do, after some more testing of the wakeup path."},
	}},
	{"Question: registered buffers and fork()", []post{
		{-1, judy, "2024-02-13 21:00:00 -0500", "If a process registers fixed buffers and then forks, can the child use\nIORING_OP_READ_FIXED on the parent's ring? I get -EFAULT."},
		{0, carol, "2024-02-14 08:00:00 +0000", "The buffers are pinned in the parent's mm. After fork the child has a\ncopy-on-write view, so the kernel refuses. Register them in the child."},
		{1, judy, "2024-02-14 20:00:00 -0500", "That makes sense. Is this documented anywhere?"},
		{2, grace, "2024-02-15 09:00:00 +0000", "Not well. I'll add a note to io_uring_register_buffers(3) in liburing."},
		{3, judy, "2024-02-15 22:00:00 -0500", "Thanks, that would have saved me a day."},
		{1, dave, "2024-02-14 10:00:00 -0800", "Also MADV_DONTFORK on the buffer memory avoids the surprise entirely."},
	}},
	{"multishot recv returns -ENOBUFS with provided buffer rings", []post{
		{-1, grace, "2024-03-14 10:00:00 +0000", "Using io_uring_setup_buf_ring() with 64 entries and multishot recv, I get\n-ENOBUFS after exactly 64 completions even though I recycle buffers."},
		{0, ivan, "2024-03-14 11:30:00 +0100", "Are you calling io_uring_buf_ring_advance() after adding them back?\nWithout it the kernel never sees the new tail."},
		{1, grace, "2024-03-14 14:00:00 +0000", "Argh, I was using io_uring_buf_ring_add() only. Works now."},
		{0, erin, "2024-03-14 09:00:00 -0600", "Also note the multishot request terminates on -ENOBUFS; you must re-arm it."},
		{3, grace, "2024-03-14 16:00:00 +0000", "Good to know, I'll handle IORING_CQE_F_MORE being cleared."},
		{4, bob, "2024-03-15 08:00:00 -0500", "A liburing example for this would be nice; it bites everyone once."},
	}},
	{"io_uring zerocopy send performance on a 100G NIC", []post{
		{-1, ivan, "2024-03-20 09:00:00 +0100", "Numbers for IORING_OP_SEND_ZC vs plain send, 64 KiB payloads, one core:\nsend 38 Gbit/s, send_zc 71 Gbit/s, send_zc with fixed buffers 83 Gbit/s."},
		{0, erin, "2024-03-20 08:00:00 -0600", "Nice. What does it look like for 4 KiB payloads? That's where the\nnotification overhead should dominate."},
		{1, ivan, "2024-03-20 18:00:00 +0100", "At 4 KiB zerocopy loses: 12 vs 15 Gbit/s. Break-even is around 16 KiB."},
		{2, alice, "2024-03-21 10:00:00 +0100", "Matches what I saw with registered files. Could liburing pick\nautomatically based on size?"},
		{3, grace, "2024-03-21 12:00:00 +0000", "Not without knowing the NIC; better left to the application."},
		{2, carol, "2024-03-21 09:00:00 +0000", "Did you use IORING_RECVSEND_FIXED_BUF for the fixed buffer case?"},
	}},
	{"[ANNOUNCE] liburing 2.6 released", []post{
		{-1, erin, "2024-04-02 10:00:00 -0600", "liburing 2.6 is out: buffer ring helpers, CQE32 fixes, a new\npeek-batch regression test and many man page updates."},
		{0, judy, "2024-04-02 20:00:00 -0400", "Thanks! The buffer docs are much clearer now."},
		{0, dave, "2024-04-03 09:00:00 -0700", "Packaged for my distro, tests all pass on x86_64 and arm64."},
	}},
}

// fillers adds the plain discussions: realistic volume and words to search.
func fillers(a *archive) {
	for _, d := range discussions {
		var ms []*msg
		for _, p := range d.posts {
			body := p.text + "\n"
			var m *msg
			if p.parent < 0 {
				m = a.post(p.from, d.subject, at(p.date), body)
			} else {
				par := ms[p.parent]
				first, _, _ := strings.Cut(d.posts[p.parent].text, "\n")
				m = a.reply(par, p.from, at(p.date), "On "+par.date.Format("Mon, Jan 2, 2006 at 15:04")+", "+
					nameOf(par.from)+" wrote:\n"+quote(first)+"\n"+body)
			}
			ms = append(ms, m)
		}
	}
}
