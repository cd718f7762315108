package intstr

import (
	"encoding/json"
	"testing"
)

func TestJSONEncodesBareNumberOrString(t *testing.T) {
	tests := []struct {
		in   IntOrString
		json string
	}{
		{FromInt32(93), `93`},
		{FromInt32(0), `0`},
		{FromInt32(-1), `-1`},
		{FromString("http"), `"http"`},
		{FromString("25%"), `"25%"`},
		{FromString(""), `""`},
		{IntOrString{}, `0`},
	}
	for _, tt := range tests {
		got, err := json.Marshal(tt.in)
		if err != nil {
			t.Fatalf("Marshal(%v): %v", tt.in, err)
		}
		if string(got) != tt.json {
			t.Errorf("Marshal(%#v) = %s, want %s", tt.in, got, tt.json)
		}
		var back IntOrString
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("Unmarshal(%s): %v", got, err)
		}
		if back != tt.in {
			t.Errorf("Unmarshal(%s) = %#v, want %#v", got, back, tt.in)
		}
	}
	if _, err := json.Marshal(IntOrString{Type: 7}); err == nil {
		t.Error("Marshal of an invalid type succeeded")
	}
}

func TestUnmarshalRejectsNonIntegers(t *testing.T) {
	for _, in := range []string{`1.5`, `true`, `{}`, `[1]`, `4294967296`} {
		var is IntOrString
		if err := json.Unmarshal([]byte(in), &is); err == nil {
			t.Errorf("Unmarshal(%s) = %#v, want an error", in, is)
		}
	}
}

func TestUnmarshalInStructWithPointer(t *testing.T) {
	type holder struct {
		Port  IntOrString  `json:"port"`
		Surge *IntOrString `json:"maxSurge,omitempty"`
	}
	var h holder
	if err := json.Unmarshal([]byte(`{"port":"http","maxSurge":1}`), &h); err != nil {
		t.Fatal(err)
	}
	if h.Port != FromString("http") || h.Surge == nil || *h.Surge != FromInt32(1) {
		t.Errorf("decoded %#v %#v", h.Port, h.Surge)
	}
	var n holder
	if err := json.Unmarshal([]byte(`{"port":8080,"maxSurge":null}`), &n); err != nil {
		t.Fatal(err)
	}
	if n.Port != FromInt32(8080) || n.Surge != nil {
		t.Errorf("decoded %#v %#v", n.Port, n.Surge)
	}
}

func TestStringIntValueAndParse(t *testing.T) {
	if got := FromInt32(8080).String(); got != "8080" {
		t.Errorf("String = %q", got)
	}
	if got := FromString("http").String(); got != "http" {
		t.Errorf("String = %q", got)
	}
	if got := FromString("42").IntValue(); got != 42 {
		t.Errorf("IntValue = %d", got)
	}
	if got := FromString("http").IntValue(); got != 0 {
		t.Errorf("IntValue = %d", got)
	}
	if Parse("80") != FromInt32(80) || Parse("http") != FromString("http") || Parse("25%") != FromString("25%") {
		t.Error("Parse is wrong")
	}
	if FromInt(7) != FromInt32(7) {
		t.Error("FromInt is wrong")
	}
}

func TestValueOrDefault(t *testing.T) {
	def := FromString("25%")
	if got := ValueOrDefault(nil, def); *got != def {
		t.Errorf("nil -> %v", got)
	}
	v := FromInt32(3)
	if got := ValueOrDefault(&v, def); got != &v {
		t.Errorf("set -> %v", got)
	}
}

// The cases follow Kubernetes' intstr_test.go.
func TestGetScaledValueFromIntOrPercent(t *testing.T) {
	tests := []struct {
		in      IntOrString
		total   int
		roundUp bool
		want    int
		wantErr bool
	}{
		{FromInt32(123), 100, false, 123, false},
		{FromString("90%"), 100, true, 90, false},
		{FromString("90%"), 95, true, 86, false},
		{FromString("90%"), 95, false, 85, false},
		{FromString("%"), 100, false, 0, true},
		{FromString("90#"), 100, false, 0, true},
		{FromString("#%"), 100, false, 0, true},
		{FromString("90"), 100, false, 0, true},
		{FromString("25%"), 3, true, 1, false},
		{FromString("25%"), 3, false, 0, false},
		{FromString("25%"), 0, true, 0, false},
		{FromString("0%"), 10, true, 0, false},
		{FromString("100%"), 10, false, 10, false},
		{FromString("-10%"), 15, true, -1, false},
		{FromString("-10%"), 15, false, -2, false},
		{IntOrString{Type: 9}, 10, false, 0, true},
	}
	for _, tt := range tests {
		in := tt.in
		got, err := GetScaledValueFromIntOrPercent(&in, tt.total, tt.roundUp)
		if (err != nil) != tt.wantErr {
			t.Errorf("%v of %d: err = %v, wantErr %v", tt.in, tt.total, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("%v of %d (roundUp %v) = %d, want %d", tt.in, tt.total, tt.roundUp, got, tt.want)
		}
	}
	if _, err := GetScaledValueFromIntOrPercent(nil, 10, true); err == nil {
		t.Error("nil did not fail")
	}
}
