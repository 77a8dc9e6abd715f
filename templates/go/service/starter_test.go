package service

import (
{{ imports() }}
)
{%- for m in s.methods %}
{%- if m.starter == Some(Starter::Sum) %}

func TestSum(t *testing.T) {
	svc := NewAddService()
	resp, err := svc.Sum(t.Context(), &pb.SumRequest{A: 1, B: 2})
	if err != nil || resp.GetResult() != 3 {
		t.Fatalf("Sum(1, 2) = %v, %v; want 3", resp, err)
	}
	_, err = svc.Sum(t.Context(), &pb.SumRequest{A: math.MaxInt64, B: 1})
	if CodeOf(err) != CodeInvalidArgument {
		t.Errorf("Sum(MaxInt64, 1) error = %v, want INVALID_ARGUMENT", err)
	}
}
{%- else if m.starter == Some(Starter::Concat) %}

func TestConcat(t *testing.T) {
	svc := NewAddService()
	resp, err := svc.Concat(t.Context(), &pb.ConcatRequest{A: "1", B: "2"})
	if err != nil || resp.GetResult() != "12" {
		t.Fatalf(`Concat("1", "2") = %v, %v; want "12"`, resp, err)
	}
	_, err = svc.Concat(t.Context(), &pb.ConcatRequest{A: "abcdef", B: "ghijkl"})
	if CodeOf(err) != CodeInvalidArgument {
		t.Errorf("Concat over the limit: error = %v, want INVALID_ARGUMENT", err)
	}
}
{%- endif %}
{%- endfor %}
