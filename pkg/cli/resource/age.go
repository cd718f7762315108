package resource

import (
	"time"

	"github.com/kl-dev/kl/pkg/printers"
)

// HumanDuration formats d as kubectl does in AGE columns: "45s", "3m2s",
// "15m", "4h", "5h30m", "2d3h", "45d", "2y30d" (printers.HumanDuration).
func HumanDuration(d time.Duration) string { return printers.HumanDuration(d) }

// Age returns HumanDuration(now - t), or "<unknown>" for a zero t.
func Age(t, now time.Time) string { return printers.Age(t, now) }
