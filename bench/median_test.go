package main

import "testing"

// TestMedian: the middle value of an odd count, the mean of the two
// middle values of an even count (the upper one alone favoured whichever
// side had the faster of two rounds), none for none; the input is left
// unsorted.
func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0}, {[]float64{5}, 5}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1}, 2.5}, {[]float64{9, 1, 3, 7}, 5},
	} {
		in := append([]float64(nil), c.in...)
		if got := median(in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
		for i := range in {
			if in[i] != c.in[i] {
				t.Errorf("median(%v) reordered its input: %v", c.in, in)
			}
		}
	}
}
