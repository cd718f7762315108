package apiserver

import (
	"bytes"
	"sync"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/apiserver/cacher"
)

// expectations let the watch cache skip decoding the objects this
// apiserver writes: a write registers the object it is about to store (in
// its typed form), and when the store's event for that key carries exactly
// those bytes, the cache builds its entry from the typed object instead of
// decoding the JSON again. Anything else (writes through another apiserver,
// a mismatch) takes the normal decoding path.
type expectations struct {
	mu sync.Mutex
	m  map[string]expected
}

type expected struct {
	obj  meta.Object
	data []byte // as stored (no resourceVersion)
}

func newExpectations() *expectations { return &expectations{m: map[string]expected{}} }

// expect records that key is about to be stored as data (obj's encoding).
func (e *expectations) expect(key string, obj meta.Object, data []byte) {
	e.mu.Lock()
	e.m[key] = expected{obj: obj, data: data}
	e.mu.Unlock()
}

// forget drops the expectation of key (the write failed).
func (e *expectations) forget(key string, data []byte) {
	e.mu.Lock()
	if x, ok := e.m[key]; ok && bytes.Equal(x.data, data) {
		delete(e.m, key)
	}
	e.mu.Unlock()
}

// take returns the expected object for key when value is what was expected.
func (e *expectations) take(key string, value []byte) (meta.Object, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.m[key]
	if !ok {
		return nil, false
	}
	delete(e.m, key)
	if !bytes.Equal(x.data, value) {
		return nil, false
	}
	return x.obj, true
}

// cacheDecoder builds the watch cache's view of r's stored objects.
func (s *Server) cacheDecoder(r *resource) cacher.Decoder {
	return func(key string, value []byte, rv int64) (*cacher.Object, error) {
		obj, ok := s.expected.take(key, value)
		if !ok {
			var err error
			if obj, err = decodeStored(r, value, rv); err != nil {
				return nil, err
			}
		}
		data, err := cacher.InjectResourceVersion(value, rv)
		if err != nil {
			return nil, err
		}
		m := obj.GetObjectMeta()
		return &cacher.Object{
			Key: key, Namespace: m.Namespace, Name: m.Name, Labels: m.Labels,
			Fields: r.selectableFields(obj), RV: rv, Data: data,
		}, nil
	}
}
