package radar

import (
	"slices"
	"strings"
	"testing"
)

// A pull request as git request-pull writes it (linux-bluetooth,
// 2026-01-22).
const pullText = `The following changes since commit 4a3dba48188208e4f66822800e042686784d29d1:

  Octeontx2-af: Add proper checks for fwdata (2026-01-22 08:09:00 -0800)

are available in the Git repository at:

  git://git.kernel.org/pub/scm/linux/kernel/git/bluetooth/bluetooth.git tags/for-net-2026-01-22

for you to fetch changes up to 1b9c17fd0a7fdcbe69ec5d6fe8e50bc5ed7f01f2:

  Bluetooth: MGMT: Fix memory leak in set_ssp_complete (2026-01-22 13:26:53 -0500)

----------------------------------------------------------------
bluetooth pull request for net:

 - hci_uart: fix null-ptr-deref in hci_uart_write_work
 - MGMT: Fix memory leak in set_ssp_complete

----------------------------------------------------------------
Jia-Hong Su (1):
      Bluetooth: hci_uart: fix null-ptr-deref in hci_uart_write_work

Jianpeng Chang (1):
      Bluetooth: MGMT: Fix memory leak in set_ssp_complete

 drivers/bluetooth/hci_ldisc.c | 4 ++--
 net/bluetooth/mgmt.c          | 3 +++
 2 files changed, 5 insertions(+), 2 deletions(-)
`

func TestPulledKeys(t *testing.T) {
	got := pulledKeys(pullText)
	want := []string{
		TitleKey("Bluetooth: MGMT: Fix memory leak in set_ssp_complete"),
		TitleKey("Bluetooth: hci_uart: fix null-ptr-deref in hci_uart_write_work"),
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("pulledKeys = %q, want %q", got, want)
	}
	// Quoted in a reply, or no request-pull text: nothing.
	quoted := "> " + strings.ReplaceAll(pullText, "\n", "\n> ")
	for _, text := range []string{quoted, "Applied, thanks.\n\nJia-Hong Su (1):\n      Bluetooth: foo\n"} {
		if got := pulledKeys(text); len(got) > 0 {
			t.Errorf("pulledKeys(%.40q…) = %q, want none", text, got)
		}
	}
}

func TestPullTree(t *testing.T) {
	next := strings.Replace(pullText, "tags/for-net-2026-01-22", "tags/for-net-next-2026-01-29", 1)
	other := strings.Replace(pullText, "tags/for-net-2026-01-22", "tags/v6.19", 1)
	for _, tc := range []struct {
		subject, text string
		want          int8
	}{
		{"[GIT PULL] bluetooth 2026-01-22", pullText, 1},
		{"[GIT PULL] bluetooth-next 2026-01-29", next, -1},
		{"pull-request: ath-current-20260713", other, 1},
		{"pull-request: ath-next-20260609", other, -1},
		{"[GIT PULL] wireless-next-2026-06-10", other, -1},
		{"[GIT PULL] smb3 client fixes", other, 1},
		{"[GIT PULL] io_uring fixes for 6.16-rc7", other, 1},
		{"[GIT PULL] io_uring updates for 6.9-rc1", other, 0},
		{"[GIT PULL] Please pull RDMA subsystem changes", other, 0},
		{"[GIT PULL] Please pull RDMA subsystem changes", strings.Replace(pullText, "tags/for-net-2026-01-22", "tags/for-linus", 1), 1},
	} {
		if got := pullTree(tc.subject, tc.text); got != tc.want {
			t.Errorf("pullTree(%q) = %d, want %d", tc.subject, got, tc.want)
		}
	}
}
