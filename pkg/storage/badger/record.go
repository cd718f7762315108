package badger

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/kl-dev/kl/pkg/storage"
)

// On-disk layout. Every key of the store lives under one of two one-byte
// namespaces, so user keys can never collide with the store's own:
//
//	'd' + key   -> record: version byte 1, ModRevision, CreateRevision
//	               (8 bytes big-endian each), then the value
//	'm' + "rev" -> current revision, 8 bytes big-endian, written in the same
//	               transaction as every batch of writes
const (
	dataPrefix    = 'd'
	recordVersion = 1
	headerSize    = 1 + 8 + 8
)

var metaRevKey = []byte("mrev")

func dataKey(key string) []byte {
	b := make([]byte, 1+len(key))
	b[0] = dataPrefix
	copy(b[1:], key)
	return b
}

// newRecord returns a record holding a copy of value with a zero header;
// setHeader fills it in once the revisions are known.
func newRecord(value []byte) []byte {
	rec := make([]byte, headerSize+len(value))
	rec[0] = recordVersion
	copy(rec[headerSize:], value)
	return rec
}

func setHeader(rec []byte, modRev, createRev int64) {
	binary.BigEndian.PutUint64(rec[1:9], uint64(modRev))
	binary.BigEndian.PutUint64(rec[9:17], uint64(createRev))
}

// decodeRecord parses rec into kv, copying the value (badger's buffers are
// only valid inside the transaction).
func decodeRecord(key string, rec []byte) (storage.KeyValue, error) {
	if len(rec) < headerSize || rec[0] != recordVersion {
		return storage.KeyValue{}, fmt.Errorf("corrupt record for %s (%d bytes)", key, len(rec))
	}
	kv := storage.KeyValue{
		Key:            key,
		ModRevision:    int64(binary.BigEndian.Uint64(rec[1:9])),
		CreateRevision: int64(binary.BigEndian.Uint64(rec[9:17])),
		Value:          bytes.Clone(rec[headerSize:]),
	}
	return kv, nil
}

func decodeRev(b []byte) (int64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("corrupt revision record (%d bytes)", len(b))
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}
