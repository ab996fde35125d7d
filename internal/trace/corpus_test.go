package trace_test

import (
	"context"
	"fmt"
	"net/mail"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"patchtrail/indexer"
	"patchtrail/internal/link"
	"patchtrail/internal/store"
	"patchtrail/internal/testcorpus"
	"patchtrail/internal/trace"
)

// ioUringPostings is the final posting of the fix of every io_uring CVE
// of ../shared/corpus/vulns (by programFiles) that was posted to
// io-uring: the version whose content the fix commit has, in its real
// thread. Checked by hand where more than one posting carries the title:
//
//   - CVE-2023-52654: a "[PATCH RESEND]" reused the Message-ID of the
//     original with other content (stored under a generated id); the
//     original holds the reviews and the maintainer's "Applied".
//   - CVE-2025-23154: v2 was re-sent under its own Message-ID (stored
//     under a generated id); the original v2 is in the thread the
//     maintainer's "Applied" (naming 6889ae1b4df1) answers.
//   - CVE-2023-52926: v1 and v2 of the series have the same patch-id;
//     v2 is the version applied.
//   - CVE-2024-58000: v1 adds barrier_nospec(), v2 array_index_nospec(),
//     which is what the CVE text (and the commit) describes.
//   - CVE-2024-39508 (v3), CVE-2025-38106, CVE-2025-38256, CVE-2025-40216,
//     CVE-2025-68814 (v2): the "Applied" reply to that version names the
//     fix commit.
//   - CVE-2024-41080, CVE-2024-50060, CVE-2024-56584, CVE-2025-68317:
//     the other postings are AUTOSEL stable backports.
var ioUringPostings = map[string]string{
	"CVE-2022-48983": "20221206093833.3812138-1-harshit.m.mogalapalli@oracle.com",
	"CVE-2022-49791": "7700ac57653f2823e30b34dc74da68678c0c5f13.1668710222.git.asml.silence@gmail.com",
	"CVE-2022-50295": "20221019171218.1337614-1-harshit.m.mogalapalli@oracle.com",
	"CVE-2022-50639": "20221020014710.902201-1-rafaelmendsr@gmail.com",
	"CVE-2022-50705": "8cc4528f-ebce-d570-086f-f2f1098b532d@kernel.dk",
	"CVE-2023-52654": "c716c88321939156909cfa1bd8b0faaf1c804103.1701868795.git.asml.silence@gmail.com",
	"CVE-2023-52656": "20231219194401.591059-3-axboe@kernel.dk",
	"CVE-2023-52895": "8997c26b-c498-166d-d130-2caca08a3abb@kernel.dk",
	"CVE-2023-52914": "559d2a90-25c5-626c-c643-25a86cf15e6a@kernel.dk",
	"CVE-2023-52926": "20230912172458.1646720-2-axboe@kernel.dk",
	"CVE-2023-53461": "b0e4aaef-7088-56ce-244c-976edeac0e66@kernel.dk",
	"CVE-2023-53511": "20230228045459.13524-1-joseph.qi@linux.alibaba.com",
	"CVE-2023-54030": "0b295634e8f1b71aa764c984608c22d85f88f75c.1691757663.git.asml.silence@gmail.com",
	"CVE-2023-54041": "20230401195039.404909-3-wlukowicz01@gmail.com",
	"CVE-2024-35827": "138bd2e2-ede8-4bcc-aa7b-f3d9de167a37@moroto.mountain",
	"CVE-2024-35831": "20240313213912.1920-1-krisman@suse.de",
	"CVE-2024-35880": "20240403135602.1623312-5-axboe@kernel.dk",
	"CVE-2024-39371": "d79f05cf-af34-43a3-a922-63a523050216@kernel.dk",
	"CVE-2024-39508": "20240507170002.2269003-1-leitao@debian.org",
	"CVE-2024-40922": "77966bc104e25b0534995d5dbb152332bc8f31c0.1718196953.git.asml.silence@gmail.com",
	"CVE-2024-41080": "20240604130527.3597-1-hagarhem@amazon.com",
	"CVE-2024-42254": "c5f9df20560bd9830401e8e48abc029e7cfd9f5e.1721329239.git.asml.silence@gmail.com",
	"CVE-2024-50060": "0bf88b09-277c-4a87-bd55-2e4d7da511b5@kernel.dk",
	"CVE-2024-50079": "0e178150-2eeb-4205-a2c3-3f026fc8e81c@kernel.dk",
	"CVE-2024-53052": "46f67f82-846b-4607-902a-c71e3d2a68c6@kernel.dk",
	"CVE-2024-53187": "1b7520ddb168e1d537d64be47414a0629d0d8f8f.1732581026.git.asml.silence@gmail.com",
	"CVE-2024-56584": "7c857055-1ab8-4525-b9c1-5de6e6d1c3d6@kernel.dk",
	"CVE-2024-58000": "1e3d9da7c43d619de7bcf41d1cd277ab2688c443.1733694126.git.asml.silence@gmail.com",
	"CVE-2025-21655": "7812ebd4-674f-4ad7-8c13-401684e8099b@kernel.dk",
	"CVE-2025-21836": "40d7284c871172f948f490a92c59a9a50a9ca3fc.1739367903.git.asml.silence@gmail.com",
	"CVE-2025-21863": "7eddbf31c8ca0a3947f8ed98271acc2b4349c016.1739568408.git.asml.silence@gmail.com",
	"CVE-2025-23154": "8b611dbb54d1cd47a88681f5d38c84d0c02bc563.1743067183.git.asml.silence@gmail.com",
	"CVE-2025-38002": "7eea65f2-f5c1-4a18-95eb-89982c42fa68@kernel.dk",
	"CVE-2025-38106": "20250610171801.70960-1-superman.xpt@gmail.com",
	"CVE-2025-38196": "ca1dd406-0927-44f3-bfd7-a120ef04cbf6@kernel.dk",
	"CVE-2025-38256": "a28b0f87339ac2acf14a645dad1e95bbcbf18acd.1750771718.git.asml.silence@gmail.com",
	"CVE-2025-38453": "c4dd5328-611b-46a8-8570-6ff37f4d7da6@kernel.dk",
	"CVE-2025-38504": "b9e6d919d2964bc48ddbf8eb52fc9f5d118e9bc1.1751878185.git.asml.silence@gmail.com",
	"CVE-2025-38730": "6efa6355-3ad0-4041-adb0-f6ea3840b824@kernel.dk",
	"CVE-2025-39698": "20250822131557.891602-2-axboe@kernel.dk",
	"CVE-2025-39793": "5c418b7e-11bd-4b22-8ea7-77022709829d@kernel.dk",
	"CVE-2025-39816": "97dfa04b-25b0-4660-b3be-6fadfdd08a31@kernel.dk",
	"CVE-2025-39822": "tencent_4DBB3674C0419BEC2C0C525949DA410CA307@qq.com",
	"CVE-2025-39963": "20250919090352.2725950-1-yangxiuwei2025@163.com",
	"CVE-2025-40046": "b0441e746c0a840908ec3e3881f782b5e84aa6d3.1759914280.git.asml.silence@gmail.com",
	"CVE-2025-40047": "2fe8ec5e-596c-48cd-ba20-6d80530f3e85@kernel.dk",
	"CVE-2025-40216": "e387b4c78b33f231105a601d84eefd8301f57954.1750771718.git.asml.silence@gmail.com",
	"CVE-2025-40267": "ebc2ae15-ef88-4f21-b027-dfe86a5db555@kernel.dk",
	"CVE-2025-68234": "2b6dacfa-5e44-49da-b81f-51710e2584cf@kernel.dk",
	"CVE-2025-68294": "e528d7e2-3d63-4bf2-bb14-e8aab5ea9c9c@kernel.dk",
	"CVE-2025-68317": "fd527d8638203fe0f1c5ff06ff2e1d8fd68f831b.1755179962.git.asml.silence@gmail.com",
	"CVE-2025-68814": "20251225072829.44646-1-activprithvi@gmail.com",
}

// wantDiscussion: the io_uring CVEs the list discussed under their id
// (the first message of each thread, and how many name the CVE).
var wantDiscussion = map[string][]string{
	"CVE-2024-41001": {"18634c7e-b234-ac02-20f8-4d5426733679@huawei.com 3"},
}

// wantBugReports: bug reports against the Fixes: target of a CVE's fix.
var wantBugReports = map[string][]string{
	// Dan Carpenter's static checker report on 5cf4f52e6d8a, fixed by
	// the CVE's fix four months later.
	"CVE-2024-35880": {"9a411872-46c3-4652-8704-d1610f547583@moroto.mountain 5cf4f52e6d8a subject"},
}

// TestIOUringCVEPostings traces every io_uring CVE of the vulns corpus
// over the io-uring archive and checks the final posting against
// ioUringPostings; the io_uring CVEs not listed there have no posting
// under their title in the archive and must find none.
//
// The archive is not imported whole (minutes): the test imports, in
// archive order, every thread (messages connected by Message-ID,
// In-Reply-To and References) holding a message whose subject, tags and
// "Re:" stripped, is the title of a CVE of the corpus. That is every
// message a posting by title can be found among, with its cover letter,
// its sibling parts and its replies.
func TestIOUringCVEPostings(t *testing.T) {
	testcorpus.Inbox(t)
	vulns := testcorpus.Vulns(t)
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := link.ImportCVEs(ctx, st, vulns, nil); err != nil {
		t.Fatal(err)
	}
	titles := map[string]bool{}
	var ioUring []string
	if err := st.EachCVE(ctx, func(c *store.CVERow) error {
		titles[link.SubjectKey(c.Title)] = true
		for _, f := range c.Files {
			if strings.HasPrefix(f, "io_uring/") || f == "fs/io_uring.c" || f == "fs/io-wq.c" || f == "fs/io-wq.h" {
				ioUring = append(ioUring, c.ID)
				break
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for id := range ioUringPostings {
		if !contains(ioUring, id) {
			t.Errorf("%s is not an io_uring CVE of the corpus", id)
		}
	}

	path := filepath.Join(t.TempDir(), "threads.mbox")
	n := testcorpus.WriteThreads(t, path, func(_ mail.Header, subject string) bool {
		// And the threads naming a CVE or reporting a bug, for the
		// discussion and bug reports of a trace.
		return titles[link.SubjectKey(subject)] || strings.Contains(strings.ToUpper(subject), "CVE-") ||
			strings.Contains(strings.ToLower(subject), "bug report")
	})
	if _, err := indexer.Import(ctx, st, path, &indexer.Options{List: "io-uring"}); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d messages in the threads of CVE titles, %d io_uring CVEs", n, len(ioUring))

	for _, id := range ioUring {
		tr, err := trace.Load(ctx, st, id)
		if err != nil {
			t.Errorf("trace %s: %v", id, err)
			continue
		}
		got := ""
		if tr.Posting != nil {
			got = tr.Posting.MessageID
		}
		if want := ioUringPostings[id]; got != want {
			t.Errorf("trace %s: final posting <%s>, want <%s>", id, got, want)
		}
		if tr.Posting != nil && tr.Thread != nil && len(tr.Thread.Messages) < 1 {
			t.Errorf("trace %s: empty thread", id)
		}
		for _, r := range tr.Reviews {
			if trace.IsBot(r.From.Name, r.From.Email) || tr.Posting != nil && strings.EqualFold(r.From.Email, tr.Posting.From.Email) {
				t.Errorf("trace %s: review <%s> from %s <%s>", id, r.MessageID, r.From.Name, r.From.Email)
			}
		}
		if id == "CVE-2023-52654" {
			checkApplied(t, tr, "170198118655.1944107.5078206606631700639.b4-ty@kernel.dk")
		}
		var disc, bugs []string
		for _, m := range tr.Discussion {
			disc = append(disc, fmt.Sprintf("%s %d", m.MessageID, m.Messages))
		}
		for _, m := range tr.BugReports {
			bugs = append(bugs, fmt.Sprintf("%s %.12s %s", m.MessageID, m.Target, m.Found))
		}
		if diff := cmp.Diff(wantDiscussion[id], disc); diff != "" {
			t.Errorf("trace %s: discussion (-want +got):\n%s", id, diff)
		}
		if want, ok := wantBugReports[id]; ok {
			if diff := cmp.Diff(want, bugs); diff != "" {
				t.Errorf("trace %s: bug reports (-want +got):\n%s", id, diff)
			}
		}
	}
}

// checkApplied: the maintainer's b4 "Applied, thanks!" mid is the
// trace's applied step, not a review.
func checkApplied(t *testing.T, tr *trace.Trace, mid string) {
	t.Helper()
	for _, r := range tr.Reviews {
		if r.MessageID == mid {
			t.Errorf("%s: <%s> listed as a review", tr.Query, mid)
		}
	}
	for _, e := range tr.Timeline {
		if e.Event == "applied" && e.MessageID == mid {
			return
		}
	}
	t.Errorf("%s: <%s> is not the applied step", tr.Query, mid)
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
