package apiserver

import (
	"net/http"
	"net/http/pprof"
	"strings"
)

// pprofPrefix is where the Go runtime's profiles are served (Config.Profiling).
const pprofPrefix = "/debug/pprof/"

// servePprof serves net/http/pprof's handlers: the index and named
// profiles (heap, goroutine, allocs, ...), a CPU profile, a trace, the
// command line and symbols. The authorizer lets only system:masters here.
func servePprof(w http.ResponseWriter, req *http.Request) int {
	rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	switch strings.TrimPrefix(req.URL.Path, pprofPrefix) {
	case "cmdline":
		pprof.Cmdline(rec, req)
	case "profile":
		pprof.Profile(rec, req)
	case "symbol":
		pprof.Symbol(rec, req)
	case "trace":
		pprof.Trace(rec, req)
	default:
		pprof.Index(rec, req)
	}
	return rec.code
}

// statusRecorder notes the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

// Flush lets streaming handlers flush through the recorder.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
