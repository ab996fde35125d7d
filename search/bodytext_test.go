package search

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestAddBodyText(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Doc
	}{
		{
			name: "plain reply",
			body: "On Mon, X wrote:\r\n> quoted line\r\n> more\r\n\r\nMy answer.\r\n",
			want: Doc{NonQuoted: "On Mon, X wrote:\n\nMy answer.", Quoted: "> quoted line\n> more"},
		},
		{
			name: "git format-patch",
			body: `The fix.

Signed-off-by: A <a@b.c>
---
 io_uring/rw.c | 3 ++-
 1 file changed, 2 insertions(+), 1 deletion(-)

diff --git a/io_uring/rw.c b/io_uring/rw.c
index 0123456789ab..fedcba987654 100644
--- a/io_uring/rw.c
+++ b/io_uring/rw.c
@@ -10,7 +10,8 @@ static int io_rw_init(struct io_kiocb *req)
 	int ret;
-	ret = old_call(req);
+	ret = new_call(req);
+	extra_line();
 	return ret;
@@ -40,3 +41,3 @@
 ctx
-- 
2.43.0
`,
			want: Doc{
				NonQuoted:       "The fix.\nSigned-off-by: A <a@b.c>\n---\n io_uring/rw.c | 3 ++-\n 1 file changed, 2 insertions(+), 1 deletion(-)\ndiff --git a/io_uring/rw.c b/io_uring/rw.c\n2.43.0",
				DiffFileNames:   []string{"io_uring/rw.c"},
				DiffRemoved:     "\tret = old_call(req);",
				DiffAdded:       "\tret = new_call(req);\n\textra_line();",
				DiffHunkHeaders: "static int io_rw_init(struct io_kiocb *req)",
				DiffContext:     "\tint ret;\n\treturn ret;\nctx",
				DiffPreBlobs:    []string{"0123456789ab"},
				DiffPostBlobs:   []string{"fedcba987654"},
			},
		},
		{
			name: "rename, binary and quoted path",
			body: `diff --git a/old name.c b/new name.c
similarity index 90%
rename from old name.c
rename to new name.c
diff --git "a/tab\there" "b/tab\there"
index 1111111..2222222
GIT binary patch
literal 12
TcmZ?wbhEHbWMp7q;9vj%0{{XK

literal 0
HcmV?d00001

`,
			want: Doc{
				NonQuoted:     "diff --git a/old name.c b/new name.c\nsimilarity index 90%\nrename from old name.c\nrename to new name.c\ndiff --git \"a/tab\\there\" \"b/tab\\there\"\nGIT binary patch\nliteral 12\nliteral 0",
				DiffFileNames: []string{"old name.c", "new name.c", "tab\there"},
				DiffPreBlobs:  []string{"1111111"},
				DiffPostBlobs: []string{"2222222"},
			},
		},
		{
			name: "traditional diff -u",
			body: "diff -u linux-6.1/fs/x.c linux-6.1.new/fs/x.c\n--- linux-6.1/fs/x.c\n+++ linux-6.1.new/fs/x.c\n@@ -1 +1 @@\n-a\n+b\n",
			want: Doc{
				NonQuoted:     "diff -u linux-6.1/fs/x.c linux-6.1.new/fs/x.c",
				DiffFileNames: []string{"fs/x.c"},
				DiffRemoved:   "a",
				DiffAdded:     "b",
			},
		},
		{
			name: "quoted patch stays quoted",
			body: "> diff --git a/x b/x\n> +added\nNice.\n",
			want: Doc{NonQuoted: "Nice.", Quoted: "> diff --git a/x b/x\n> +added"},
		},
	}
	for _, tt := range tests {
		var d Doc
		d.AddBodyText(tt.body)
		if diff := cmp.Diff(tt.want, d, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: AddBodyText mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestAddBodyTextAppends(t *testing.T) {
	var d Doc
	d.AddBodyText("first part\n")
	d.AddBodyText("second part\n> q\n")
	if d.NonQuoted != "first part\nsecond part" || d.Quoted != "> q" {
		t.Errorf("after two parts: NonQuoted=%q Quoted=%q", d.NonQuoted, d.Quoted)
	}
}
