package chart

import (
	"image"

	"golang.org/x/image/font"
)

// LegendBoxes is legendBoxes measured with the chart's face, for the tests.
func LegendBoxes(l Labels) (bars, line, days image.Rectangle) {
	face, err := newFace()
	if err != nil {
		panic(err)
	}
	defer face.Close()
	return legendBoxes(l, func(s string) int { return font.MeasureString(face, s).Ceil() })
}
