package chart

import (
	_ "embed"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
)

// subset is Noto Sans CJK SC cut down to printable ASCII and the runes of the
// digest chart's labels in every language (font/OFL.txt is its licence).
// scripts/chart-font.sh, run by `make chart-font`, regenerates it from the
// labels in bot/catalog_digest.go; Missing tells when a label needs that.
//
//go:embed font/NotoSansCJKsc-chart.otf
var subset []byte

// fontSize is the size of every text of the chart, in pixels.
const fontSize = 13

var parsed = sync.OnceValues(func() (*sfnt.Font, error) { return opentype.Parse(subset) })

// newFace returns a face of the embedded font; a face is not safe for
// concurrent use, so each Render takes its own.
func newFace() (font.Face, error) {
	f, err := parsed()
	if err != nil {
		return nil, err
	}
	return opentype.NewFace(f, &opentype.FaceOptions{Size: fontSize, DPI: 72, Hinting: font.HintingFull})
}

// Missing returns the runes of s the embedded font has no glyph for, in
// order, each once; such a rune would be drawn as an empty box.
func Missing(s string) []rune {
	f, err := parsed()
	if err != nil {
		return []rune(s)
	}
	var buf sfnt.Buffer
	var missing []rune
	seen := map[rune]bool{}
	for _, r := range s {
		if seen[r] {
			continue
		}
		seen[r] = true
		if i, err := f.GlyphIndex(&buf, r); err != nil || i == 0 {
			missing = append(missing, r)
		}
	}
	return missing
}
