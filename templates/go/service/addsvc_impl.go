package service

import (
	"context"
	"math"

	"{{ p.module }}/pb"
)

// maxConcatLen bounds the result of Concat, as in go-kit's addsvc.
const maxConcatLen = 10

// NewAddService returns the implementation of AddService.
func NewAddService() AddService {
	return &addService{}
}

// addService implements AddService. Add the dependencies it needs (a
// database, other clients) as fields and take them in NewAddService.
type addService struct{}

// Sum returns the sum of a and b.
func (s *addService) Sum(ctx context.Context, req *pb.SumRequest) (*pb.SumReply, error) {
	a, b := req.GetA(), req.GetB()
	if (b > 0 && a > math.MaxInt64-b) || (b < 0 && a < math.MinInt64-b) {
		return nil, Errorf(CodeInvalidArgument, "%d + %d overflows int64", a, b)
	}
	return &pb.SumReply{V: a + b}, nil
}

// Concat returns the concatenation of a and b.
func (s *addService) Concat(ctx context.Context, req *pb.ConcatRequest) (*pb.ConcatReply, error) {
	v := req.GetA() + req.GetB()
	if len(v) > maxConcatLen {
		return nil, Errorf(CodeInvalidArgument, "the result is longer than %d bytes", maxConcatLen)
	}
	return &pb.ConcatReply{V: v}, nil
}
