package message

import (
	"strings"
	"testing"
)

// benchMail is a typical list patch mail: a long header (Received chain,
// DKIM, ARC) and a patch body.
var benchMail = func() []byte {
	var b strings.Builder
	for i := range 6 {
		b.WriteString("Received: from mail-pl1-f170.google.com (mail-pl1-f170.google.com [209.85.214.170])\n")
		b.WriteString("\tby smtp.subspace.kernel.org (Postfix) with ESMTPS id 5F7C61E4A9\n")
		b.WriteString("\tfor <io-uring@vger.kernel.org>; Mon, 1 Jan 2024 10:00:0" + string(rune('0'+i)) + " +0000 (UTC)\n")
	}
	b.WriteString("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=kernel-dk.20230601.gappssmtp.com; s=20230601;\n")
	for range 8 {
		b.WriteString("\t bh=" + strings.Repeat("AbCdEfGh", 8) + "\n")
	}
	b.WriteString(`From: Jens Axboe <axboe@kernel.dk>
To: io-uring@vger.kernel.org
Cc: Pavel Begunkov <asml.silence@gmail.com>, "Doe, John" <jd@example.org>, linux-kernel@vger.kernel.org
Subject: [PATCH v2 3/7] io_uring/rw: fix short reads
Date: Mon, 1 Jan 2024 10:00:00 -0700
Message-ID: <20240101170000.12345-4-axboe@kernel.dk>
In-Reply-To: <20240101170000.12345-1-axboe@kernel.dk>
References: <20240101170000.12345-1-axboe@kernel.dk>
List-Id: <io-uring.vger.kernel.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

Short reads were not retried.

Signed-off-by: Jens Axboe <axboe@kernel.dk>
---
 io_uring/rw.c | 10 +++++-----
 1 file changed, 5 insertions(+), 5 deletions(-)

`)
	b.WriteString("diff --git a/io_uring/rw.c b/io_uring/rw.c\n--- a/io_uring/rw.c\n+++ b/io_uring/rw.c\n")
	for i := range 40 {
		b.WriteString("@@ -10,7 +10,7 @@ static int io_rw_init(struct io_kiocb *req)\n \tint ret;\n-\told_call(req, " + string(rune('a'+i%26)) + ");\n+\tnew_call(req);\n \treturn ret;\n")
	}
	b.WriteString("-- \n2.43.0\n")
	return []byte(b.String())
}()

func BenchmarkParse(b *testing.B) {
	b.SetBytes(int64(len(benchMail)))
	b.ReportAllocs()
	for range b.N {
		if _, err := Parse(benchMail, nil); err != nil {
			b.Fatal(err)
		}
	}
}
