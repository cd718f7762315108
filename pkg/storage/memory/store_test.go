package memory_test

import (
	"testing"

	"github.com/kl-dev/kl/pkg/storage"
	"github.com/kl-dev/kl/pkg/storage/memory"
	"github.com/kl-dev/kl/pkg/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Interface {
		return memory.New(memory.Options{})
	})
}

func TestHistory(t *testing.T) {
	storagetest.RunHistory(t, func(t *testing.T, historySize int) storage.Interface {
		return memory.New(memory.Options{HistorySize: historySize})
	})
}
