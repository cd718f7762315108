package badger

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/klauspost/compress/zstd"

	"github.com/kl-dev/kl/pkg/storage"
)

// On-disk layout. Every key of the store lives under one of two one-byte
// namespaces, so user keys can never collide with the store's own:
//
//	'd' + key   -> record: version byte, ModRevision, CreateRevision
//	               (8 bytes big-endian each), then the value: as is
//	               (version 1) or as one zstd frame (version 2)
//	'm' + "rev" -> current revision, 8 bytes big-endian, written in the same
//	               transaction as every batch of writes
//
// Values are compressed because every byte written stays in memory for a
// while: in the memtable, in its write-ahead log and in the level-0 tables,
// which badger writes and reads through mmap, so their pages count in the
// process's resident memory until compaction replaces them. Objects are
// JSON: zstd's fastest level takes a 2 KB pod to about 950 bytes in ~9 µs
// (s2 would take it to 1,200 in 2.5 µs). Values that do not shrink are
// kept as they are, and version 1 records written by earlier kl versions
// stay readable.
const (
	dataPrefix      = 'd'
	recordPlain     = 1
	recordZstd      = 2
	headerSize      = 1 + 8 + 8
	maxDecodedValue = 256 << 20
)

var metaRevKey = []byte("mrev")

func dataKey(key string) []byte {
	b := make([]byte, 1+len(key))
	b[0] = dataPrefix
	copy(b[1:], key)
	return b
}

// codec encodes and decodes records. Its encoder and decoder are safe for
// concurrent use; close releases them.
type codec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
}

func newCodec() (*codec, error) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithLowerEncoderMem(true))
	if err != nil {
		return nil, fmt.Errorf("zstd encoder: %w", err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxMemory(maxDecodedValue))
	if err != nil {
		enc.Close()
		return nil, fmt.Errorf("zstd decoder: %w", err)
	}
	return &codec{enc: enc, dec: dec}, nil
}

func (c *codec) close() {
	c.enc.Close()
	c.dec.Close()
}

// newRecord returns the record for value with a zero header (setHeader
// fills it in once the revisions are known) and a copy of value that
// does not change once written (it may share the record's bytes).
func (c *codec) newRecord(value []byte) (rec, stored []byte) {
	rec = make([]byte, headerSize, headerSize+len(value)/2)
	rec[0] = recordZstd
	rec = c.enc.EncodeAll(value, rec)
	if len(rec) < headerSize+len(value) {
		return rec, bytes.Clone(value)
	}
	rec = make([]byte, headerSize+len(value))
	rec[0] = recordPlain
	copy(rec[headerSize:], value)
	return rec, rec[headerSize:]
}

func setHeader(rec []byte, modRev, createRev int64) {
	binary.BigEndian.PutUint64(rec[1:9], uint64(modRev))
	binary.BigEndian.PutUint64(rec[9:17], uint64(createRev))
}

// decodeRecord parses rec into kv, copying the value (badger's buffers are
// only valid inside the transaction).
func (c *codec) decodeRecord(key string, rec []byte) (storage.KeyValue, error) {
	if len(rec) < headerSize {
		return storage.KeyValue{}, fmt.Errorf("corrupt record for %s (%d bytes)", key, len(rec))
	}
	if rec[0] != recordPlain && rec[0] != recordZstd {
		return storage.KeyValue{}, fmt.Errorf("record for %s has format version %d, which this kl cannot read (written by a newer kl?)", key, rec[0])
	}
	kv := storage.KeyValue{
		Key:            key,
		ModRevision:    int64(binary.BigEndian.Uint64(rec[1:9])),
		CreateRevision: int64(binary.BigEndian.Uint64(rec[9:17])),
	}
	if rec[0] == recordPlain {
		kv.Value = bytes.Clone(rec[headerSize:])
		return kv, nil
	}
	v, err := c.dec.DecodeAll(rec[headerSize:], nil)
	if err != nil {
		return storage.KeyValue{}, fmt.Errorf("corrupt record for %s: %w", key, err)
	}
	kv.Value = v
	return kv, nil
}

func decodeRev(b []byte) (int64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("corrupt revision record (%d bytes)", len(b))
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}
