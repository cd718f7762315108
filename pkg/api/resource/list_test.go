package resource

import "testing"

func TestResourceListAccessors(t *testing.T) {
	rl := ResourceList{
		ResourceCPU:              MustParse("500m"),
		ResourceMemory:           MustParse("1Gi"),
		ResourcePods:             MustParse("110"),
		ResourceEphemeralStorage: MustParse("10Gi"),
	}
	tests := []struct {
		got  *Quantity
		want string
	}{
		{rl.Cpu(), "500m"},
		{rl.Memory(), "1Gi"},
		{rl.Pods(), "110"},
		{rl.StorageEphemeral(), "10Gi"},
	}
	for _, tt := range tests {
		if tt.got.String() != tt.want {
			t.Errorf("got %s, want %s", tt.got.String(), tt.want)
		}
	}
	// Absent names are zero in the resource's natural format.
	empty := ResourceList{}
	if q := empty.Memory(); !q.IsZero() || q.Format != BinarySI {
		t.Errorf("absent memory = %s %s", q.String(), q.Format)
	}
	if q := empty.Cpu(); !q.IsZero() || q.Format != DecimalSI {
		t.Errorf("absent cpu = %s %s", q.String(), q.Format)
	}
	// The accessors return copies.
	c := rl.Cpu()
	c.Add(MustParse("1"))
	if rl.Cpu().String() != "500m" {
		t.Error("Cpu() aliases the list")
	}
}

func TestResourceListDeepCopyAndEqual(t *testing.T) {
	if ResourceList(nil).DeepCopy() != nil {
		t.Error("nil list copied to non-nil")
	}
	rl := ResourceList{ResourceCPU: MustParse("1"), ResourceMemory: MustParse("18446744073709551616")}
	c := rl.DeepCopy()
	if !c.Equal(rl) {
		t.Fatal("copy not equal")
	}
	q := c[ResourceMemory]
	q.Add(MustParse("1"))
	c[ResourceMemory] = q
	if c.Equal(rl) || rl[ResourceMemory].String() != "18446744073709551616" {
		t.Error("copy aliases original")
	}
	if !(ResourceList{ResourceCPU: MustParse("1000m")}).Equal(ResourceList{ResourceCPU: MustParse("1")}) {
		t.Error("equal values in different forms are not Equal")
	}
	if (ResourceList{ResourceCPU: MustParse("1")}).Equal(ResourceList{ResourceMemory: MustParse("1")}) {
		t.Error("different names are Equal")
	}
}
