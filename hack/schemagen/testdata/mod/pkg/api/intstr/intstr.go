package intstr

type IntOrString struct {
	IntVal int32
	StrVal string
}

func (i IntOrString) MarshalJSON() ([]byte, error) { return nil, nil }
