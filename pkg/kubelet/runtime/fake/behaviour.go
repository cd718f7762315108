package fake

import (
	"path"
	"strconv"
	"strings"
	"time"
)

// Special images (see the package doc).
const (
	ImageExit          = "kl.test/exit"
	ImageCrash         = "kl.test/crash"
	ImageOOM           = "kl.test/oom"
	ImageIgnoreSIGTERM = "kl.test/ignore-sigterm"
	ImagePullError     = "kl.test/pull-error"
	ImageFailReadiness = "kl.test/fail-readiness"
	ImageFailLiveness  = "kl.test/fail-liveness"
	ImageFailStartup   = "kl.test/fail-startup"
)

// Exit codes of a container ended by a signal.
const (
	exitSIGTERM = 143
	exitSIGKILL = 137
)

// behaviour is what a container does once started.
type behaviour struct {
	// exits says the container ends by itself after runFor.
	exits    bool
	runFor   time.Duration
	exitCode int32
	reason   string
	// ignoreTerm: SIGTERM does nothing.
	ignoreTerm bool
	// output is written to the log when the container starts.
	output string
}

// splitImage returns an image's repository and tag ("" when untagged);
// a digest is dropped.
func splitImage(image string) (repo, tag string) {
	if i := strings.Index(image, "@"); i >= 0 {
		image = image[:i]
	}
	slash := strings.LastIndex(image, "/")
	if i := strings.LastIndex(image, ":"); i > slash {
		return image[:i], image[i+1:]
	}
	return image, ""
}

// behaviourOf decides what a container of image running argv does.
func behaviourOf(image string, argv []string, exitDelay time.Duration) behaviour {
	repo, tag := splitImage(image)
	switch repo {
	case ImageExit:
		code, _ := strconv.ParseInt(tag, 10, 32)
		return exitWith(int32(code), exitDelay)
	case ImageCrash:
		return exitWith(1, exitDelay)
	case ImageOOM:
		return behaviour{exits: true, runFor: exitDelay, exitCode: exitSIGKILL, reason: "OOMKilled"}
	case ImageIgnoreSIGTERM:
		return behaviour{ignoreTerm: true}
	}
	if len(argv) == 0 {
		return behaviour{}
	}
	switch path.Base(argv[0]) {
	case "exit":
		return exitWith(argCode(argv), exitDelay)
	case "sh", "bash":
		if len(argv) == 3 && argv[1] == "-c" {
			if f := strings.Fields(argv[2]); len(f) == 2 && f[0] == "exit" {
				code, err := strconv.ParseInt(f[1], 10, 32)
				if err == nil {
					return exitWith(int32(code), exitDelay)
				}
			}
		}
	case "true":
		return exitWith(0, exitDelay)
	case "false":
		return exitWith(1, exitDelay)
	case "echo":
		b := exitWith(0, exitDelay)
		b.output = strings.Join(argv[1:], " ") + "\n"
		return b
	case "sleep":
		if len(argv) >= 2 {
			if d, ok := parseSleep(argv[1]); ok {
				return behaviour{exits: true, runFor: d, reason: "Completed"}
			}
		}
	}
	return behaviour{}
}

func exitWith(code int32, after time.Duration) behaviour {
	reason := "Completed"
	if code != 0 {
		reason = "Error"
	}
	return behaviour{exits: true, runFor: after, exitCode: code, reason: reason}
}

// argCode parses the N of ["exit", "N"] (0 when absent).
func argCode(argv []string) int32 {
	if len(argv) < 2 {
		return 0
	}
	n, err := strconv.ParseInt(argv[1], 10, 32)
	if err != nil {
		return 1
	}
	return int32(n)
}

// parseSleep parses sleep's argument: seconds ("1.5"), a Go duration
// ("200ms"), or "infinity" (never: false).
func parseSleep(s string) (time.Duration, bool) {
	if s == "infinity" || s == "inf" {
		return 0, false
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 {
		return time.Duration(f * float64(time.Second)), true
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return d, true
	}
	return 0, false
}
