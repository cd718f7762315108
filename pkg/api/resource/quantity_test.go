package resource

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
)

// The expected strings below are what Kubernetes' resource.Quantity prints
// (checked against k8s.io/apimachinery; the same tables appear in its
// quantity_test.go).

func TestParseQuantityPrintsKubernetesCanonicalForm(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		format Format
	}{
		// Already canonical: kept verbatim.
		{"100m", "100m", DecimalSI},
		{"128Mi", "128Mi", BinarySI},
		{"1G", "1G", DecimalSI},
		{"100Mi", "100Mi", BinarySI},
		{"1Ki", "1Ki", BinarySI},
		{"1e3", "1e3", DecimalExponent},
		{"12e6", "12e6", DecimalExponent},
		{"1E6", "1E6", DecimalExponent},
		{"1E-3", "1E-3", DecimalExponent},
		{"250m", "250m", DecimalSI},
		{"2", "2", DecimalSI},
		{"0", "0", DecimalSI},
		{"+1Ki", "+1Ki", BinarySI},
		{"0100m", "0100m", DecimalSI},
		// Canonicalised.
		{"1.5", "1500m", DecimalSI},
		{"0.1", "100m", DecimalSI},
		{"0.5", "500m", DecimalSI},
		{"1000m", "1", DecimalSI},
		{"1000M", "1G", DecimalSI},
		{"0.5Gi", "512Mi", BinarySI},
		{"1.5Gi", "1536Mi", BinarySI},
		{"1024Mi", "1Gi", BinarySI},
		{"2048Ki", "2Mi", BinarySI},
		{"1000Ki", "1000Ki", BinarySI},
		{"5.1Gi", "5476083302400m", BinarySI},
		{"0.5Ki", "512", BinarySI},
		{"1.2e3", "1200", DecimalExponent},
		{"1.3E+6", "1300e3", DecimalExponent},
		{"0.5e-2", "5e-3", DecimalExponent},
		// Kubernetes keeps these verbatim too (its fast path only checks
		// that the shifted digits have no trailing 000).
		{"100.035k", "100.035k", DecimalSI},
		{"10.035M", "10.035M", DecimalSI},
		{"7.123456M", "7.123456M", DecimalSI},
		{"1.", "1.", DecimalSI},
		{"1.G", "1.G", DecimalSI},
		{"100.0350k", "100035", DecimalSI},
		{"7.1234560M", "7123456", DecimalSI},
		{"1.0", "1", DecimalSI},
		{"1.01E", "1010P", DecimalSI},
		{".001", "1m", DecimalSI},
		{".0001k", "100m", DecimalSI},
		{"-1.5", "-1500m", DecimalSI},
		{"-0.5Gi", "-512Mi", BinarySI},
		{"0Mi", "0", BinarySI},
		{"Ki", "0", BinarySI},
		{"e3", "0", DecimalExponent},
		{".", "0", DecimalSI},
		// Rounded up to nano precision.
		{"3.001n", "4n", DecimalSI},
		{"0.9n", "1n", DecimalSI},
		{"1.1E-9", "2e-9", DecimalExponent},
		{"0.00000012345", "124n", DecimalSI},
		{".000000000001Ki", "2n", DecimalSI},
		{".001Ki", "1024m", BinarySI},
		// Binary quantities are capped at 2^63-1.
		{"9Ei", "9223372036854775807", BinarySI},
		{"8Ei", "9223372036854775807", BinarySI},
		// Beyond int64: exact big arithmetic.
		{"18446744073709551616", "18446744073709551616", DecimalSI},
		{"123456789012345678901234567890", "123456789012345678901234567890", DecimalSI},
		// DecimalSI has no suffix past E: exponent notation, never a lost
		// magnitude.
		{"1000E", "1e21", DecimalSI},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			q, err := ParseQuantity(tt.in)
			if err != nil {
				t.Fatalf("ParseQuantity(%q): %v", tt.in, err)
			}
			if got := q.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if q.Format != tt.format {
				t.Errorf("Format = %s, want %s", q.Format, tt.format)
			}
			js, err := json.Marshal(q)
			if err != nil {
				t.Fatal(err)
			}
			if string(js) != `"`+tt.want+`"` {
				t.Errorf("MarshalJSON = %s, want %q", js, tt.want)
			}
			// The canonical form parses back to the same number and prints
			// the same.
			back, err := ParseQuantity(tt.want)
			if err != nil {
				t.Fatalf("reparse %q: %v", tt.want, err)
			}
			if back.Cmp(q) != 0 || back.String() != tt.want {
				t.Errorf("reparse %q = %s (cmp %d)", tt.want, back.String(), back.Cmp(q))
			}
		})
	}
}

func TestParseQuantityRejectsWhatKubernetesRejects(t *testing.T) {
	for _, in := range []string{
		"", " 1", "1 ", "1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i", "1i",
		"-3.01i", "-3.01e-", "1e", "1kk", "1Ki1", "Pi", ".e-10", "-Ei", "1e2000",
	} {
		if q, err := ParseQuantity(in); err == nil {
			t.Errorf("ParseQuantity(%q) = %s, want an error", in, q.String())
		}
	}
	_, err := ParseQuantity("1 ")
	if !errors.Is(err, ErrFormatWrong) {
		t.Errorf("error %v does not wrap ErrFormatWrong", err)
	}
	_, err = ParseQuantity("1Q")
	if !errors.Is(err, ErrFormatWrong) && !errors.Is(err, ErrSuffix) {
		t.Errorf("error %v wraps neither ErrFormatWrong nor ErrSuffix", err)
	}
}

func TestMustParsePanicsOnInvalidInput(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustParse did not panic")
		}
	}()
	MustParse("Non-Numeric")
}

func TestValueAndMilliValueRoundAwayFromZero(t *testing.T) {
	tests := []struct {
		in          string
		value, mill int64
	}{
		{"100m", 1, 100},
		{"1.5", 2, 1500},
		{"1", 1, 1000},
		{"128Mi", 134217728, 134217728000},
		{"1G", 1000000000, 1000000000000},
		{"1n", 1, 1},
		{"1500u", 1, 2},
		{"0", 0, 0},
		{"-100m", -1, -100},
		{"-1.5", -2, -1500},
		{"1e3", 1000, 1000000},
		// Saturates rather than wrapping.
		{"18446744073709551616", math.MaxInt64, math.MaxInt64},
		{"10E", math.MaxInt64, math.MaxInt64},
	}
	for _, tt := range tests {
		q := MustParse(tt.in)
		if got := q.Value(); got != tt.value {
			t.Errorf("%s.Value() = %d, want %d", tt.in, got, tt.value)
		}
		if got := q.MilliValue(); got != tt.mill {
			t.Errorf("%s.MilliValue() = %d, want %d", tt.in, got, tt.mill)
		}
	}
	if got := MustParse("1").ScaledValue(Nano); got != 1e9 {
		t.Errorf("ScaledValue(Nano) = %d", got)
	}
}

func TestCmp(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"0", "0", 0},
		{"100m", "50m", 1},
		{"50m", "100m", -1},
		{"10000T", "100Gi", 1},
		{"1", "1000m", 0},
		{"1Gi", "1073741824", 0},
		{"1G", "1Gi", -1},
		{"-1", "0", -1},
		{"18446744073709551616", "9223372036854775807", 1},
		{"1e21", "1000E", 0},
		{"1n", "1e-1024", 0}, // parsing rounds up to 1n
		{"-1e1024", "1e-1024", -1},
	}
	for _, tt := range tests {
		a, b := MustParse(tt.a), MustParse(tt.b)
		if got := a.Cmp(b); got != tt.want {
			t.Errorf("Cmp(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := b.Cmp(a); got != -tt.want {
			t.Errorf("Cmp(%s, %s) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
		if a.Equal(b) != (tt.want == 0) {
			t.Errorf("Equal(%s, %s) = %v", tt.a, tt.b, a.Equal(b))
		}
	}
	if MustParse("2").CmpInt64(2) != 0 || MustParse("2.5").CmpInt64(2) != 1 {
		t.Error("CmpInt64 is wrong")
	}
}

func TestAddAndSub(t *testing.T) {
	tests := []struct {
		a, b     string
		add, sub string
	}{
		{"100m", "50m", "150m", "50m"},
		{"1", "500m", "1500m", "500m"},
		{"1Gi", "512Mi", "1536Mi", "512Mi"},
		{"1G", "1Gi", "2073741824", "-73741824"},
		{"0", "100m", "100m", "-100m"},
		{"100m", "0", "100m", "100m"},
		{"0", "1Gi", "1Gi", "-1Gi"},
		{"9223372036854775807", "1", "9223372036854775808", "9223372036854775806"},
		{"18446744073709551616", "18446744073709551616", "36893488147419103232", "0"},
		{"1n", "1E", "1000000000000000000000000001n", "-999999999999999999999999999n"},
	}
	for _, tt := range tests {
		a, b := MustParse(tt.a), MustParse(tt.b)
		sum := a.DeepCopy()
		sum.Add(b)
		if got := sum.String(); got != tt.add {
			t.Errorf("%s + %s = %s, want %s", tt.a, tt.b, got, tt.add)
		}
		diff := a.DeepCopy()
		diff.Sub(b)
		if got := diff.String(); got != tt.sub {
			t.Errorf("%s - %s = %s, want %s", tt.a, tt.b, got, tt.sub)
		}
		if a.String() != MustParse(tt.a).String() || b.String() != MustParse(tt.b).String() {
			t.Errorf("operands changed: %s, %s", a.String(), b.String())
		}
	}
}

func TestAddingToZeroTakesTheOperandsFormat(t *testing.T) {
	var sum Quantity
	sum.Add(MustParse("1Gi"))
	sum.Add(MustParse("1Gi"))
	if sum.String() != "2Gi" || sum.Format != BinarySI {
		t.Errorf("sum = %s (%s), want 2Gi BinarySI", sum.String(), sum.Format)
	}
}

func TestNegAndSign(t *testing.T) {
	q := MustParse("9010m")
	q.Neg()
	if q.String() != "-9010m" || q.Sign() != -1 {
		t.Errorf("Neg = %s sign %d", q.String(), q.Sign())
	}
	min := Quantity{value: math.MinInt64, Format: DecimalSI}
	min.Neg()
	if min.String() != "9223372036854775808" {
		t.Errorf("-MinInt64 = %s", min.String())
	}
	if (Quantity{}).Sign() != 0 || !(Quantity{}).IsZero() {
		t.Error("zero Quantity is not zero")
	}
}

func TestRoundUp(t *testing.T) {
	tests := []struct {
		in    string
		scale Scale
		want  string
		exact bool
	}{
		{"9.01", -3, "9010m", true},
		{"9.01", -2, "9010m", true},
		{"9.01", -1, "9100m", false},
		{"9.01", 0, "10", false},
		{"9.01", 2, "100", false},
		{"-9.01", 0, "-10", false},
		{"100u", -3, "1m", false},
		{"1500u", -3, "2m", false},
		{"1000u", -3, "1m", true},
		{"100m", -3, "100m", true},
	}
	for _, tt := range tests {
		q := MustParse(tt.in)
		exact := q.RoundUp(tt.scale)
		if q.String() != tt.want || exact != tt.exact {
			t.Errorf("%s.RoundUp(%d) = %s, %v; want %s, %v", tt.in, tt.scale, q.String(), exact, tt.want, tt.exact)
		}
	}
}

func TestConstructors(t *testing.T) {
	tests := []struct {
		q    *Quantity
		want string
	}{
		{NewQuantity(1000, DecimalSI), "1k"},
		{NewQuantity(1024, BinarySI), "1Ki"},
		{NewQuantity(1000000, "bogus"), "1e6"},
		{NewQuantity(5, BinarySI), "5"},
		{NewMilliQuantity(1500, DecimalSI), "1500m"},
		{NewMilliQuantity(1024, BinarySI), "1024m"},
		{NewMilliQuantity(1000000, "bogus"), "1e3"},
		{NewScaledQuantity(1000, Nano), "1u"},
		{NewScaledQuantity(5, Giga), "5G"},
	}
	for _, tt := range tests {
		if got := tt.q.String(); got != tt.want {
			t.Errorf("got %s, want %s", got, tt.want)
		}
	}
	q := NewQuantity(0, DecimalSI)
	q.SetMilli(250)
	if q.String() != "250m" {
		t.Errorf("SetMilli: %s", q.String())
	}
	q.Set(3)
	if q.String() != "3" {
		t.Errorf("Set: %s", q.String())
	}
}

func TestJSONDecodesStringsAndNumbers(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{`"100m"`, "100m"},
		{`" 1"`, "1"},
		{`"1 "`, "1"},
		{`1`, "1"},
		{`1.5`, "1500m"},
		{`0.1`, "100m"},
		{`1E+3`, "1E+3"},
		{`-1`, "-1"},
		{`null`, "0"},
	}
	for _, tt := range tests {
		var q Quantity
		if err := json.Unmarshal([]byte(tt.in), &q); err != nil {
			t.Errorf("Unmarshal(%s): %v", tt.in, err)
			continue
		}
		if q.String() != tt.want {
			t.Errorf("Unmarshal(%s) = %s, want %s", tt.in, q.String(), tt.want)
		}
	}
	for _, in := range []string{`"abc"`, `true`, `"1Q"`} {
		var q Quantity
		if err := json.Unmarshal([]byte(in), &q); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", in)
		}
	}
}

func TestJSONInStructsAndMaps(t *testing.T) {
	type holder struct {
		Q   Quantity            `json:"q"`
		P   *Quantity           `json:"p,omitempty"`
		Map map[string]Quantity `json:"map"`
	}
	in := `{"q":"1.5","map":{"cpu":"0.5","memory":"1024Mi"}}`
	var h holder
	if err := json.Unmarshal([]byte(in), &h); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"q":"1500m","map":{"cpu":"500m","memory":"1Gi"}}`
	if string(out) != want {
		t.Errorf("got %s, want %s", out, want)
	}
}

func TestDeepCopyIsIndependent(t *testing.T) {
	q := MustParse("18446744073709551616")
	c := q.DeepCopy()
	c.Add(MustParse("1"))
	if q.String() != "18446744073709551616" {
		t.Errorf("original changed to %s", q.String())
	}
	if c.String() != "18446744073709551617" {
		t.Errorf("copy = %s", c.String())
	}
}

func TestAsInt64(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1k", 1000, true},
		{"1000m", 1, true},
		{"1500m", 0, false},
		{"1Gi", 1 << 30, true},
		{"18446744073709551616", 0, false},
	}
	for _, tt := range tests {
		got, ok := MustParse(tt.in).AsInt64()
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s.AsInt64() = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if f := MustParse("1500m").AsApproximateFloat64(); f != 1.5 {
		t.Errorf("AsApproximateFloat64 = %v", f)
	}
}

// FuzzParseQuantity checks that whatever parses prints a canonical form
// that parses back to the same number and prints identically.
func FuzzParseQuantity(f *testing.F) {
	for _, s := range []string{"100m", "1.5Gi", "1e3", "-0.5", "9Ei", "1.1E-9", ".", "0.000000000001Ki", "18446744073709551616"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuantity(s)
		if err != nil {
			return
		}
		canon := q.canonical()
		back, err := ParseQuantity(canon)
		if err != nil {
			t.Fatalf("%q: canonical form %q does not parse: %v", s, canon, err)
		}
		if back.Cmp(q) != 0 {
			t.Fatalf("%q: canonical form %q is a different number", s, canon)
		}
		if again := back.canonical(); again != canon {
			t.Fatalf("%q: canonical form %q prints as %q", s, canon, again)
		}
	})
}
