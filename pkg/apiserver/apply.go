package apiserver

import (
	"context"
	"net/http"
	"net/url"

	"github.com/kl-dev/kl/pkg/api/meta"
)

// applyObject is server-side apply (PATCH with application/apply-patch+yaml).
func (s *Server) applyObject(ctx context.Context, r *resource, info requestInfo, body []byte, wo writeOptions, q url.Values) (meta.Object, error) {
	return nil, meta.NewStatusError(http.StatusUnsupportedMediaType, meta.StatusReasonUnsupportedMediaType,
		"server-side apply (application/apply-patch+yaml) is not served by this apiserver yet")
}
