// Package resource implements Quantity, the fixed-point number Kubernetes
// uses for resource amounts ("100m", "128Mi", "1.5", "1e3"), and
// ResourceList, the map of named quantities in requests, limits and node
// capacity.
//
// Parsing, canonical printing and JSON encoding follow Kubernetes'
// k8s.io/apimachinery/pkg/api/resource exactly for every value a manifest can
// hold:
//
//   - a quantity remembers its suffix family (Format): BinarySI (Ki, Mi, ...),
//     DecimalSI (n, u, m, "", k, M, ...) or DecimalExponent (e3, E-6);
//   - parsing keeps the value exactly down to nano (10^-9) and rounds a finer
//     non-zero value away from zero ("0.9n" is "1n"); BinarySI values are
//     capped at 2^63-1;
//   - String and MarshalJSON print the canonical form: the largest suffix of
//     the remembered family that loses no precision and needs no fraction
//     ("1.5" is "1500m", "0.5Gi" is "512Mi", "1024Mi" is "1Gi"); a BinarySI
//     value below 1024 or with a fraction is printed as DecimalSI;
//   - a string that is already canonical is kept verbatim, so "1e3" prints as
//     "1e3" and "100m" as "100m".
//
// The one deliberate difference: a decimal exponent beyond ±1024 ("1e5000")
// is rejected, which bounds the cost of exact arithmetic on hostile input.
package resource

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Scale is a power of ten: a Quantity with value v and scale s is v × 10^s.
type Scale int32

// Common scales.
const (
	Nano  Scale = -9
	Micro Scale = -6
	Milli Scale = -3
	Kilo  Scale = 3
	Mega  Scale = 6
	Giga  Scale = 9
	Tera  Scale = 12
	Peta  Scale = 15
	Exa   Scale = 18
)

// Format is the suffix family a Quantity is printed with.
type Format string

// The three suffix families.
const (
	DecimalExponent Format = "DecimalExponent" // e.g. 12e6
	BinarySI        Format = "BinarySI"        // e.g. 12Mi (12 × 2^20)
	DecimalSI       Format = "DecimalSI"       // e.g. 12M (12 × 10^6)
)

// maxExponent bounds the exponent of the DecimalExponent form (see package doc).
const maxExponent = 1024

// Parse errors; ParseQuantity wraps them with the offending input.
var (
	ErrFormatWrong = errors.New("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
	ErrNumeric     = errors.New("unable to parse numeric part of quantity")
	ErrSuffix      = errors.New("unable to parse quantity's suffix")
)

// Quantity is a fixed-point number with a remembered suffix family. The zero
// value is 0. Use ParseQuantity, MustParse or the New* constructors to make
// one, Cmp or Equal to compare (never ==), and DeepCopy to copy.
type Quantity struct {
	// The value is value × 10^scale, or big × 10^scale when big is non-nil
	// (only for values whose unscaled form does not fit an int64).
	value int64
	scale int32
	big   *big.Int
	// s is the verbatim input when it was already canonical.
	s string

	// Format is the suffix family used when printing.
	Format Format
}

// MustParse parses str or panics; for tests and constants.
func MustParse(str string) Quantity {
	q, err := ParseQuantity(str)
	if err != nil {
		panic(fmt.Errorf("cannot parse %q: %w", str, err))
	}
	return q
}

// ParseQuantity parses str (no surrounding whitespace) into a Quantity.
func ParseQuantity(str string) (Quantity, error) {
	q, err := parse(str)
	if err != nil {
		return Quantity{}, fmt.Errorf("quantity %q: %w", str, err)
	}
	return q, nil
}

func parse(str string) (Quantity, error) {
	if len(str) == 0 {
		return Quantity{}, ErrFormatWrong
	}
	if str == "0" {
		return Quantity{Format: DecimalSI, s: str}, nil
	}
	positive, digits, num, denom, suf, err := scan(str)
	if err != nil {
		return Quantity{}, err
	}
	base, exponent, format, err := interpretSuffix(suf)
	if err != nil {
		return Quantity{}, err
	}

	// Fast path: the digits fit an int64 once shifted by the suffix.
	var precision, scale int32
	mantissa := int64(1)
	switch format {
	case DecimalExponent, DecimalSI:
		scale = exponent
		precision = 18 - int32(len(num)+len(denom))
	case BinarySI:
		if exponent >= 0 && len(denom) == 0 {
			mantissa <<= uint(exponent)
			// 2^10 holds about three decimal digits.
			precision = 15 - int32(len(num)) - exponent*3/10 - 1
		} else {
			precision = -1
		}
	}
	if precision >= 0 {
		scale -= int32(len(denom))
		if scale >= int32(Nano) {
			shifted := num + denom
			v, err := strconv.ParseInt(shifted, 10, 64)
			if err != nil {
				return Quantity{}, ErrNumeric
			}
			if r, ok := mulInt64(v, mantissa); ok {
				if !positive {
					r = -r
				}
				q := Quantity{value: r, scale: scale, Format: format}
				// Keep the input when it is already in canonical form.
				switch format {
				case BinarySI:
					if exponent%10 == 0 && v&0x07 != 0 {
						q.s = str
					}
				default:
					if scale%3 == 0 && !strings.HasSuffix(shifted, "000") && shifted[0] != '0' {
						q.s = str
					}
				}
				return q, nil
			}
		}
	}

	// Slow path: exact arithmetic on big integers. Unlike the fast path it
	// needs at least one digit ("Pi" and ".e-10" are errors, "Ki" is 0).
	u, ok := new(big.Int).SetString(num+denom, 10)
	if !ok || !digits {
		return Quantity{}, ErrNumeric
	}
	sc := -int32(len(denom))
	if base == 10 {
		sc += exponent
	} else {
		u.Lsh(u, uint(exponent))
	}
	// Keep nano precision, rounding a finer non-zero value away from zero:
	// whoever asks for some of a resource gets some.
	if u.Sign() != 0 && sc < int32(Nano) {
		u = divRoundAway(u, int32(Nano)-sc)
		sc = int32(Nano)
	}
	if format == BinarySI {
		// sc <= 0 here: binary suffixes only shift left.
		one := pow10Big(-sc)
		limit := new(big.Int).Mul(big.NewInt(math.MaxInt64), one)
		if u.Cmp(limit) > 0 {
			u, sc = big.NewInt(math.MaxInt64), 0
		} else if u.Sign() > 0 && u.Cmp(one) < 0 {
			format = DecimalSI
		}
	}
	if !positive {
		u.Neg(u)
	}
	q := Quantity{Format: format}
	q.setBig(u, sc)
	return q, nil
}

// scan splits str into sign, integer digits (leading zeros removed, "0" when
// none), fraction digits and suffix, with Kubernetes' exact acceptance rules
// (for example "1." and ".5" are numbers, "1 " is not). digits reports
// whether the number had any digit at all.
func scan(str string) (positive, digits bool, num, denom, suffix string, err error) {
	positive = true
	pos, end := 0, len(str)
	switch str[0] {
	case '-':
		positive = false
		pos++
	case '+':
		pos++
	}
	zeros := pos
	for pos < end && str[pos] == '0' {
		pos++
	}
	digits = pos > zeros
	if pos == end {
		return positive, digits, "0", "", "", nil
	}
	start := pos
	for pos < end && isDigit(str[pos]) {
		pos++
	}
	num = str[start:pos]
	if pos == end {
		return positive, true, num, "", "", nil
	}
	digits = digits || num != ""
	if num == "" {
		num = "0"
	}
	if str[pos] == '.' {
		pos++
		start = pos
		for pos < end && isDigit(str[pos]) {
			pos++
		}
		denom = str[start:pos]
		digits = digits || denom != ""
		if pos == end {
			return positive, digits, num, denom, "", nil
		}
	}
	suffixStart := pos
	for pos < end && strings.IndexByte("eEinumkKMGTP", str[pos]) >= 0 {
		pos++
	}
	if pos < end && (str[pos] == '-' || str[pos] == '+') {
		pos++
	}
	for pos < end && isDigit(str[pos]) {
		pos++
	}
	if pos != end {
		return false, false, "", "", "", ErrFormatWrong
	}
	return positive, digits, num, denom, str[suffixStart:], nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// decimalSuffixes maps DecimalSI suffixes to powers of ten.
var decimalSuffixes = map[string]int32{
	"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18,
}

// decimalSuffixByPower lists the DecimalSI suffixes from 10^-9 to 10^18 in
// steps of 10^3.
var decimalSuffixByPower = [...]string{"n", "u", "m", "", "k", "M", "G", "T", "P", "E"}

// binarySuffixes maps BinarySI suffixes to powers of two.
var binarySuffixes = map[string]int32{
	"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60,
}

func interpretSuffix(s string) (base, exponent int32, format Format, err error) {
	if e, ok := decimalSuffixes[s]; ok {
		return 10, e, DecimalSI, nil
	}
	if e, ok := binarySuffixes[s]; ok {
		return 2, e, BinarySI, nil
	}
	if len(s) > 1 && (s[0] == 'e' || s[0] == 'E') {
		e, perr := strconv.ParseInt(s[1:], 10, 64)
		if perr != nil {
			return 0, 0, "", ErrSuffix
		}
		if e > maxExponent || e < -maxExponent {
			return 0, 0, "", fmt.Errorf("%w: exponent %d is out of range [-%d, %d]", ErrSuffix, e, maxExponent, maxExponent)
		}
		return 10, int32(e), DecimalExponent, nil
	}
	return 0, 0, "", ErrSuffix
}

// NewQuantity returns value in the given format.
func NewQuantity(value int64, format Format) *Quantity {
	return &Quantity{value: value, Format: format}
}

// NewMilliQuantity returns value/1000 in the given format.
func NewMilliQuantity(value int64, format Format) *Quantity {
	return &Quantity{value: value, scale: int32(Milli), Format: format}
}

// NewScaledQuantity returns value × 10^scale in DecimalSI format.
func NewScaledQuantity(value int64, scale Scale) *Quantity {
	return &Quantity{value: value, scale: int32(scale), Format: DecimalSI}
}

// Set sets q to value, keeping the format.
func (q *Quantity) Set(value int64) { q.SetScaled(value, 0) }

// SetMilli sets q to value/1000, keeping the format.
func (q *Quantity) SetMilli(value int64) { q.SetScaled(value, Milli) }

// SetScaled sets q to value × 10^scale, keeping the format.
func (q *Quantity) SetScaled(value int64, scale Scale) {
	*q = Quantity{value: value, scale: int32(scale), Format: q.Format}
}

// DeepCopy returns an independent copy of q.
func (q Quantity) DeepCopy() Quantity {
	if q.big != nil {
		q.big = new(big.Int).Set(q.big)
	}
	return q
}

// IsZero reports whether q is zero.
func (q Quantity) IsZero() bool {
	if q.big != nil {
		return q.big.Sign() == 0
	}
	return q.value == 0
}

// Sign returns -1, 0 or 1 as q is negative, zero or positive.
func (q Quantity) Sign() int {
	if q.big != nil {
		return q.big.Sign()
	}
	switch {
	case q.value < 0:
		return -1
	case q.value > 0:
		return 1
	}
	return 0
}

// Cmp returns -1, 0 or 1 as q is less than, equal to or greater than y.
func (q Quantity) Cmp(y Quantity) int {
	if q.big == nil && y.big == nil {
		switch {
		case q.scale == y.scale:
			return cmpInt64(q.value, y.value)
		case q.scale > y.scale:
			if a, ok := mulPow10(q.value, q.scale-y.scale); ok {
				return cmpInt64(a, y.value)
			}
		default:
			if b, ok := mulPow10(y.value, y.scale-q.scale); ok {
				return cmpInt64(q.value, b)
			}
		}
	}
	return cmpBig(q.unscaledBig(), q.scale, y.unscaledBig(), y.scale)
}

// CmpInt64 compares q with the integer y.
func (q Quantity) CmpInt64(y int64) int { return q.Cmp(Quantity{value: y}) }

// Equal reports whether q and v are the same number (formats may differ).
func (q Quantity) Equal(v Quantity) bool { return q.Cmp(v) == 0 }

// Add adds y to q. When q is zero it takes y's format.
func (q *Quantity) Add(y Quantity) {
	q.s = ""
	if q.IsZero() {
		q.Format = y.Format
		q.value, q.scale, q.big = y.value, y.scale, nil
		if y.big != nil {
			q.big = new(big.Int).Set(y.big)
		}
		return
	}
	q.add(y)
}

// Sub subtracts y from q. When q is zero it takes y's format.
func (q *Quantity) Sub(y Quantity) {
	y = y.DeepCopy()
	y.Neg()
	q.Add(y)
}

func (q *Quantity) add(y Quantity) {
	if y.IsZero() {
		return
	}
	if q.big == nil && y.big == nil {
		a, b, sc := q.value, y.value, q.scale
		ok := true
		switch {
		case q.scale > y.scale:
			a, ok = mulPow10(a, q.scale-y.scale)
			sc = y.scale
		case q.scale < y.scale:
			b, ok = mulPow10(b, y.scale-q.scale)
		}
		if ok {
			if r, ok := addInt64(a, b); ok {
				q.value, q.scale = r, sc
				return
			}
		}
	}
	a, b, sc := alignBig(q.unscaledBig(), q.scale, y.unscaledBig(), y.scale)
	q.setBig(a.Add(a, b), sc)
}

// Neg negates q.
func (q *Quantity) Neg() {
	q.s = ""
	switch {
	case q.big != nil:
		q.big = new(big.Int).Neg(q.big)
	case q.value == math.MinInt64:
		q.big = new(big.Int).Neg(big.NewInt(q.value))
	default:
		q.value = -q.value
	}
}

// RoundUp rounds q away from zero to a multiple of 10^scale and reports
// whether no precision was lost. A value already at that precision (or
// coarser) is left untouched.
func (q *Quantity) RoundUp(scale Scale) bool {
	sc := int32(scale)
	if q.scale >= sc {
		return true
	}
	q.s = ""
	u := q.unscaledBig()
	r := new(big.Int)
	quo, _ := new(big.Int).QuoRem(u, pow10Big(sc-q.scale), r)
	exact := r.Sign() == 0
	if !exact {
		quo.Add(quo, big.NewInt(int64(u.Sign())))
	}
	q.setBig(quo, sc)
	return exact
}

// Value returns q rounded away from zero to an integer. A value beyond the
// int64 range saturates at math.MaxInt64 or math.MinInt64.
func (q Quantity) Value() int64 { return q.ScaledValue(0) }

// MilliValue returns q × 1000 rounded away from zero (saturating like Value).
func (q Quantity) MilliValue() int64 { return q.ScaledValue(Milli) }

// ScaledValue returns q / 10^scale rounded away from zero (saturating like
// Value).
func (q Quantity) ScaledValue(scale Scale) int64 {
	sc := int32(scale)
	if q.big == nil {
		if q.scale >= sc {
			if r, ok := mulPow10(q.value, q.scale-sc); ok {
				return r
			}
			return saturate(q.Sign())
		}
		d := sc - q.scale
		if d > 18 {
			// |value| < 10^19 <= 10^d: the result rounds to ±1 or is 0.
			return int64(q.Sign())
		}
		p := pow10[d]
		r := q.value / p
		if q.value%p != 0 {
			r += int64(q.Sign())
		}
		return r
	}
	c := q.DeepCopy()
	c.RoundUp(scale)
	u := c.unscaledBig()
	if c.scale > sc {
		u.Mul(u, pow10Big(c.scale-sc))
	}
	if !u.IsInt64() {
		return saturate(u.Sign())
	}
	return u.Int64()
}

// AsInt64 returns q as an int64 when it is an integer in the int64 range.
func (q Quantity) AsInt64() (int64, bool) {
	if q.big == nil && q.scale >= 0 {
		return mulPow10(q.value, q.scale)
	}
	c := q.DeepCopy()
	if !c.RoundUp(0) {
		return 0, false
	}
	u := c.unscaledBig()
	if c.scale > 0 {
		u.Mul(u, pow10Big(c.scale))
	}
	if !u.IsInt64() {
		return 0, false
	}
	return u.Int64(), true
}

// AsApproximateFloat64 returns q as a float64, possibly losing precision.
func (q Quantity) AsApproximateFloat64() float64 {
	var base float64
	if q.big != nil {
		base, _ = new(big.Float).SetInt(q.big).Float64()
	} else {
		base = float64(q.value)
	}
	if q.scale == 0 {
		return base
	}
	return base * math.Pow10(int(q.scale))
}

// String returns the canonical form of q (see the package doc).
func (q Quantity) String() string {
	if q.s != "" {
		return q.s
	}
	return q.canonical()
}

// MarshalJSON encodes q as a JSON string in canonical form.
func (q Quantity) MarshalJSON() ([]byte, error) {
	s := q.String()
	out := make([]byte, 0, len(s)+2)
	out = append(out, '"')
	out = append(out, s...)
	return append(out, '"'), nil
}

// UnmarshalJSON decodes a JSON string or number; null leaves q zero.
// Surrounding whitespace inside the string is ignored, as Kubernetes does.
func (q *Quantity) UnmarshalJSON(value []byte) error {
	if string(value) == "null" {
		*q = Quantity{}
		return nil
	}
	if l := len(value); l >= 2 && value[0] == '"' && value[l-1] == '"' {
		value = value[1 : l-1]
	}
	parsed, err := ParseQuantity(strings.TrimSpace(string(value)))
	if err != nil {
		return err
	}
	*q = parsed
	return nil
}

// canonical prints q in canonical form, ignoring the cached input.
func (q Quantity) canonical() string {
	if q.IsZero() {
		return "0"
	}
	format := q.Format
	switch format {
	case DecimalExponent, DecimalSI:
	case BinarySI:
		if q.CmpInt64(-1024) > 0 && q.CmpInt64(1024) < 0 {
			format = DecimalSI
		} else if !q.isInteger() {
			// Never lose precision: fall back to a decimal suffix.
			format = DecimalSI
		}
	default:
		format = DecimalExponent
	}

	if format == BinarySI {
		return q.binaryString()
	}
	mantissa, exponent := q.decimalMantissa()
	if format == DecimalSI && exponent >= int32(Nano) && exponent <= int32(Exa) {
		return mantissa + decimalSuffixByPower[(exponent-int32(Nano))/3]
	}
	// DecimalExponent, or a DecimalSI exponent beyond n..E: use an exponent
	// rather than dropping the magnitude.
	if exponent == 0 {
		return mantissa
	}
	return mantissa + "e" + strconv.FormatInt(int64(exponent), 10)
}

// decimalMantissa returns q as mantissa × 10^exponent with the exponent a
// multiple of three, as large as possible without a fraction.
func (q Quantity) decimalMantissa() (string, int32) {
	if q.big == nil {
		m, e := q.value, q.scale
		for m%10 == 0 {
			m /= 10
			e++
		}
		ok := true
		switch e % 3 {
		case 1, -2:
			m, ok = mulInt64(m, 10)
			e--
		case 2, -1:
			m, ok = mulInt64(m, 100)
			e -= 2
		}
		if ok {
			return strconv.FormatInt(m, 10), e
		}
	}
	u, e := q.unscaledBig(), q.scale
	ten, r := big.NewInt(10), new(big.Int)
	for {
		quo, _ := new(big.Int).QuoRem(u, ten, r)
		if r.Sign() != 0 {
			break
		}
		u = quo
		e++
	}
	for e%3 != 0 {
		u.Mul(u, ten)
		e--
	}
	return u.String(), e
}

// binarySuffixByPower lists the BinarySI suffixes by power of 1024.
var binarySuffixByPower = [...]string{"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"}

// binaryString prints an integral q with the largest binary suffix.
func (q Quantity) binaryString() string {
	if v, ok := q.AsInt64(); ok {
		n := 0
		for n < len(binarySuffixByPower)-1 && v%1024 == 0 {
			v /= 1024
			n++
		}
		return strconv.FormatInt(v, 10) + binarySuffixByPower[n]
	}
	u := q.unscaledBig()
	if q.scale > 0 {
		u.Mul(u, pow10Big(q.scale))
	} else if q.scale < 0 {
		u.Quo(u, pow10Big(-q.scale))
	}
	k, r := big.NewInt(1024), new(big.Int)
	n := 0
	for n < len(binarySuffixByPower)-1 {
		quo, _ := new(big.Int).QuoRem(u, k, r)
		if r.Sign() != 0 {
			break
		}
		u = quo
		n++
	}
	return u.String() + binarySuffixByPower[n]
}

// isInteger reports whether q has no fractional part.
func (q Quantity) isInteger() bool {
	if q.scale >= 0 {
		return true
	}
	if q.big == nil && -q.scale <= 18 {
		return q.value%pow10[-q.scale] == 0
	}
	r := new(big.Int)
	new(big.Int).QuoRem(q.unscaledBig(), pow10Big(-q.scale), r)
	return r.Sign() == 0
}

// unscaledBig returns a fresh big.Int holding q's unscaled value.
func (q Quantity) unscaledBig() *big.Int {
	if q.big != nil {
		return new(big.Int).Set(q.big)
	}
	return big.NewInt(q.value)
}

// setBig stores u × 10^scale, using the int64 form when u fits.
func (q *Quantity) setBig(u *big.Int, scale int32) {
	q.s = ""
	q.scale = scale
	if u.IsInt64() {
		q.value, q.big = u.Int64(), nil
		return
	}
	q.value, q.big = 0, u
}

var pow10 = [...]int64{
	1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
}

// mulPow10 returns v × 10^n for n >= 0, reporting overflow.
func mulPow10(v int64, n int32) (int64, bool) {
	if v == 0 || n == 0 {
		return v, true
	}
	if n < 0 || n >= int32(len(pow10)) {
		return 0, false
	}
	return mulInt64(v, pow10[n])
}

func mulInt64(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	c := a * b
	if (c < 0) != ((a < 0) != (b < 0)) || c/b != a {
		return 0, false
	}
	return c, true
}

func addInt64(a, b int64) (int64, bool) {
	c := a + b
	if (a > 0 && b > 0 && c < 0) || (a < 0 && b < 0 && c >= 0) {
		return 0, false
	}
	return c, true
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func saturate(sign int) int64 {
	switch {
	case sign > 0:
		return math.MaxInt64
	case sign < 0:
		return math.MinInt64
	}
	return 0
}

func pow10Big(n int32) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

// divRoundAway returns u / 10^n rounded away from zero.
func divRoundAway(u *big.Int, n int32) *big.Int {
	r := new(big.Int)
	q, _ := new(big.Int).QuoRem(u, pow10Big(n), r)
	if r.Sign() != 0 {
		q.Add(q, big.NewInt(int64(u.Sign())))
	}
	return q
}

// alignBig brings a × 10^as and b × 10^bs to the smaller scale.
func alignBig(a *big.Int, as int32, b *big.Int, bs int32) (*big.Int, *big.Int, int32) {
	switch {
	case as > bs:
		a.Mul(a, pow10Big(as-bs))
		return a, b, bs
	case bs > as:
		b.Mul(b, pow10Big(bs-as))
	}
	return a, b, as
}

// cmpBig compares a × 10^as with b × 10^bs without materialising a huge
// power of ten when the magnitudes are obviously different.
func cmpBig(a *big.Int, as int32, b *big.Int, bs int32) int {
	sa, sb := a.Sign(), b.Sign()
	if sa != sb {
		return cmpInt64(int64(sa), int64(sb))
	}
	if sa == 0 {
		return 0
	}
	// Decimal order of magnitude, accurate to within one.
	oa := int64(float64(a.BitLen())*math.Log10(2)) + int64(as)
	ob := int64(float64(b.BitLen())*math.Log10(2)) + int64(bs)
	switch {
	case oa-ob > 2:
		return sa
	case ob-oa > 2:
		return -sa
	}
	a, b, _ = alignBig(a, as, b, bs)
	return a.Cmp(b)
}
