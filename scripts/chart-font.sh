#!/usr/bin/env bash
# chart-font.sh regenerates chart/font/NotoSansCJKsc-chart.otf, the font the
# digest chart (chart/chart.go) embeds: Noto Sans CJK SC cut down with
# fontTools' subsetter (pyftsubset) to printable ASCII and the runes of the chart's labels, the
# "digest.chart.<name>" texts of every language in bot/catalog_digest.go.
# Run it (make chart-font) after changing one of those labels; the tests
# chart.TestRenderZhLabels and bot.TestDigestChartLabelsInFont fail until then.
# It installs fonts-noto-cjk and python3-fonttools with apt-get when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

src=${NOTO_CJK_TTC:-/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc}
out=chart/font/NotoSansCJKsc-chart.otf
catalog=bot/catalog_digest.go

# fontpy prints a python3 that imports fontTools: the one on PATH (it may be
# a pyenv one) or Debian's, where python3-fonttools installs it.
fontpy() {
	local py
	for py in python3 /usr/bin/python3; do
		if "$py" -c 'import fontTools.subset' 2>/dev/null; then
			echo "$py"
			return 0
		fi
	done
	return 1
}
if [[ ! -f $src ]] || ! fontpy >/dev/null; then
	APT_NO_RECOMMENDS=1 apt_install fonts-noto-cjk python3-fonttools
fi
[[ -f $src ]] || die "$src not found (set NOTO_CJK_TTC to a NotoSansCJK-Regular.ttc)"
py=$(fontpy) || die "python3 cannot import fontTools (apt-get install python3-fonttools)"

# The labels: the values of the "digest.chart.<name>" keys (not the
# "digest.chart" caption, which goes in the message text, not the image).
labels=$(grep -oE '"digest\.chart\.[a-z]+": *"[^"]*"' "$catalog" | sed -E 's/^[^:]*: *"(.*)"$/\1/')
[[ -n $labels ]] || die "no digest.chart.<name> labels found in $catalog"

# The collection's Simplified Chinese face.
number=$("$py" - "$src" <<'PY'
import sys
from fontTools.ttLib import TTCollection
for i, f in enumerate(TTCollection(sys.argv[1]).fonts):
    if f["name"].getDebugName(4) == "Noto Sans CJK SC":
        print(i)
        break
else:
    sys.exit("no Noto Sans CJK SC in " + sys.argv[1])
PY
)

log "subsetting $src (font $number) to ASCII and: $(tr '\n' ' ' <<<"$labels")"
mkdir -p "$(dirname "$out")"
# --desubroutinize: golang.org/x/image/font/sfnt reads plain CFF charstrings
# more reliably than the subroutines pyftsubset would leave; no hinting, no
# layout features (the chart draws rune by rune).
"$py" -m fontTools.subset "$src" --font-number="$number" --unicodes=U+0020-007E --text="$labels" \
	--layout-features='' --no-hinting --desubroutinize --name-IDs='*' --name-languages='*' \
	--output-file="$out"
log "wrote $out ($(wc -c <"$out") bytes)"
