package badger

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/kl-dev/kl/pkg/storage"
)

func TestRecordsCompressValuesThatShrink(t *testing.T) {
	c, err := newCodec()
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	random := make([]byte, 2048)
	rand.Read(random)
	cases := []struct {
		name    string
		value   []byte
		version byte
	}{
		{"json", []byte(`{"kind":"Pod","metadata":{"name":"web-0","labels":{"app":"web"}},"spec":{"containers":[` +
			strings.Repeat(`{"name":"c","image":"nginx:1.27","resources":{"requests":{"cpu":"10m"}}},`, 20) + `{}]}}`), recordZstd},
		{"random", random, recordPlain},
		{"empty", []byte{}, recordPlain},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec, stored := c.newRecord(tc.value)
			if rec[0] != tc.version {
				t.Errorf("record version %d, want %d", rec[0], tc.version)
			}
			if tc.version == recordZstd && len(rec) >= len(tc.value)/2 {
				t.Errorf("record of %d bytes for a value of %d", len(rec), len(tc.value))
			}
			if !bytes.Equal(stored, tc.value) {
				t.Errorf("stored value %q, want %q", stored, tc.value)
			}
			setHeader(rec, 7, 3)
			kv, err := c.decodeRecord("/registry/k", rec)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(kv.Value, tc.value) || kv.ModRevision != 7 || kv.CreateRevision != 3 {
				t.Errorf("decoded %q at %d/%d, want %q at 7/3", kv.Value, kv.ModRevision, kv.CreateRevision, tc.value)
			}
		})
	}
}

func TestCorruptRecordsAreErrors(t *testing.T) {
	c, err := newCodec()
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	rec, _ := c.newRecord(bytes.Repeat([]byte(`{"a":"b"}`), 100))
	for name, bad := range map[string][]byte{
		"short":           rec[:headerSize-1],
		"unknown version": append([]byte{9}, rec[1:]...),
		"truncated frame": rec[:len(rec)-4],
	} {
		if _, err := c.decodeRecord("/registry/k", bad); err == nil || !strings.Contains(err.Error(), "/registry/k") {
			t.Errorf("%s: err = %v, want an error naming the key", name, err)
		}
	}
}

// TestReadsUncompressedRecords: stores written before values were
// compressed hold version 1 records; they stay readable and updatable.
func TestReadsUncompressedRecords(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	old := []byte(`{"kind":"ConfigMap","data":{"k":"v"}}`)
	rec := make([]byte, headerSize+len(old))
	rec[0] = recordPlain
	copy(rec[headerSize:], old)
	setHeader(rec, 1, 1)
	err = s.db.Update(func(txn *bdg.Txn) error {
		if err := txn.Set(dataKey("/registry/configmaps/default/old"), rec); err != nil {
			return err
		}
		return txn.Set(metaRevKey, []byte{0, 0, 0, 0, 0, 0, 0, 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	kv, err := s.Get(t.Context(), "/registry/configmaps/default/old")
	if err != nil || !bytes.Equal(kv.Value, old) || kv.ModRevision != 1 {
		t.Fatalf("Get = %q at %d, %v; want %q at 1", kv.Value, kv.ModRevision, err, old)
	}
	updated := bytes.Repeat([]byte(`{"k":"v"}`), 50)
	if _, err := s.Update(t.Context(), kv.Key, updated, 1); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(t.Context(), "/registry/configmaps/", storage.ListOptions{})
	if err != nil || len(list.Items) != 1 || !bytes.Equal(list.Items[0].Value, updated) {
		t.Fatalf("List = %+v, %v", list.Items, err)
	}
}

// TestStoreWritesCompressedRecords: what Create and Update put into badger
// is the compressed record, and reads give back the value written.
func TestStoreWritesCompressedRecords(t *testing.T) {
	s, err := Open(Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const key = "/registry/configmaps/default/cm"
	value := bytes.Repeat([]byte(`{"name":"web","image":"nginx:1.27"},`), 40)
	rev, err := s.Create(t.Context(), key, value)
	if err != nil {
		t.Fatal(err)
	}
	value = append(value, `{}`...)
	if _, err := s.Update(t.Context(), key, value, rev); err != nil {
		t.Fatal(err)
	}
	err = s.db.View(func(txn *bdg.Txn) error {
		item, err := txn.Get(dataKey(key))
		if err != nil {
			return err
		}
		return item.Value(func(rec []byte) error {
			if rec[0] != recordZstd || len(rec) >= len(value)/2 {
				t.Errorf("stored record: version %d, %d bytes for a value of %d", rec[0], len(rec), len(value))
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	kv, err := s.Get(t.Context(), key)
	if err != nil || !bytes.Equal(kv.Value, value) {
		t.Fatalf("Get = %q, %v; want the value written", kv.Value, err)
	}
}
