package fieldmanager_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kl-dev/kl/pkg/apiserver/fieldmanager"
)

func decode(s string) map[string]any {
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		panic(err)
	}
	return m
}

// A user applies a Deployment, `kl scale` changes its replicas, and the
// user's next apply of the old replica count conflicts until forced.
func Example() {
	m := &fieldmanager.Manager{Now: func() time.Time { return time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC) }}
	config := decode(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
		"spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"web","image":"nginx"}]}}}}`)

	// kl apply: the object does not exist yet.
	live, managed, err := m.Apply(nil, nil, config, "kl", "apps/v1", false)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s %s\n", managed[0].Manager, *managed[0].FieldsV1)

	// kl scale --replicas 5: an Update takes .spec.replicas over.
	scaled := decode(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
		"spec":{"replicas":5,"template":{"spec":{"containers":[{"name":"web","image":"nginx"}]}}}}`)
	managed = m.Update(live, scaled, managed, "kl-scale", "apps/v1")
	live = scaled

	// Re-applying replicas: 3 would undo kl scale.
	_, _, err = m.Apply(live, managed, config, "kl", "apps/v1", false)
	fmt.Println(err)

	// --force-conflicts: the applier takes the field back.
	live, managed, _ = m.Apply(live, managed, config, "kl", "apps/v1", true)
	fmt.Println(live["spec"].(map[string]any)["replicas"], len(managed))
	// Output:
	// kl {"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{}}}}}}}
	// Apply failed with 1 conflict: conflict with "kl-scale" using apps/v1: .spec.replicas
	// 3 1
}
