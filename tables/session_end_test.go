package tables

import (
	"slices"
	"testing"
)

func TestInsertedIDsForgetASession(t *testing.T) {
	s := newInsertedIDs()
	s.set(1, []string{"cus_a"})
	s.set(2, []string{"cus_b"})
	s.forget(1)
	s.forget(3) // never wrote: nothing to do
	if got := s.get(1); got != nil {
		t.Errorf("session 1 still has %v", got)
	}
	if got := s.get(2); !slices.Equal(got, []string{"cus_b"}) {
		t.Errorf("session 2 has %v, want [cus_b]", got)
	}
	if !slices.Equal(s.order, []uint32{2}) {
		t.Errorf("order %v, want [2]", s.order)
	}
}
