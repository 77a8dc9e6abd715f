package service

import (
	"math"
	"testing"

	"{{ p.module }}/pb"
)

func TestSum(t *testing.T) {
	svc := NewAddService()
	resp, err := svc.Sum(t.Context(), &pb.SumRequest{A: 1, B: 2})
	if err != nil || resp.GetV() != 3 {
		t.Fatalf("Sum(1, 2) = %v, %v; want 3", resp, err)
	}
	_, err = svc.Sum(t.Context(), &pb.SumRequest{A: math.MaxInt64, B: 1})
	if CodeOf(err) != CodeInvalidArgument {
		t.Errorf("Sum(MaxInt64, 1) error = %v, want INVALID_ARGUMENT", err)
	}
}

func TestConcat(t *testing.T) {
	svc := NewAddService()
	resp, err := svc.Concat(t.Context(), &pb.ConcatRequest{A: "1", B: "2"})
	if err != nil || resp.GetV() != "12" {
		t.Fatalf(`Concat("1", "2") = %v, %v; want "12"`, resp, err)
	}
	_, err = svc.Concat(t.Context(), &pb.ConcatRequest{A: "abcdef", B: "ghijkl"})
	if CodeOf(err) != CodeInvalidArgument {
		t.Errorf("Concat over the limit: error = %v, want INVALID_ARGUMENT", err)
	}
}
