#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs what certpress needs on Debian 12 when it is missing: the -dev
# packages it builds against, the fonts it renders with, and the independent
# validators its tests use. Idempotent, non-interactive, silent when all is
# present. The Fandol fonts come out of Debian's texlive-lang-chinese package
# (apt-get download + dpkg-deb -x), so no TeX installation is needed.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
fonts="$top/fonts"

PKGS="pkg-config gcc make gettext perl
libcairo2-dev libpango1.0-dev libharfbuzz-dev libfontconfig-dev libfreetype-dev libglib2.0-dev
libqrencode-dev libpng-dev libjpeg62-turbo-dev libsqlite3-dev libpq-dev postgresql-15 libssl-dev zlib1g-dev libdeflate-dev libcups2-dev
libexif-dev libzip-dev libexpat1-dev libfreexl-dev
libcbor-dev libzbar-dev libpoppler-glib-dev python3-cbor2 python3-cryptography qrencode imagemagick
fonts-noto-cjk fonts-noto-cjk-extra fonts-hanazono fonts-dejavu-core
zbar-tools poppler-utils qpdf mupdf-tools libnss3-tools file binutils clang libclang-rt-14-dev valgrind python3-pil
cups-ipp-utils dbus-daemon locales
libmicrohttpd-dev curl chromium"

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"
	elif command -v sudo >/dev/null 2>&1; then sudo "$@"
	else echo "deps: need root to run: $*" >&2; exit 2
	fi
}

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in *" installed") ;; *) missing="$missing $p" ;; esac
done
if [ -n "$missing" ]; then
	echo "deps: installing:$missing" >&2
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
	# shellcheck disable=SC2086
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $missing >/dev/null
fi

# Fonts named in the manifest by a relative path live in fonts/ and come from
# texlive-lang-chinese; check each against its pinned checksum.
need_fandol=""
while read -r file sum _rest; do
	case "$file" in ""|\#*) continue ;; /*) continue ;; esac
	if [ ! -f "$fonts/$file" ] || [ "$(sha256sum "$fonts/$file" | cut -d' ' -f1)" != "$sum" ]; then
		need_fandol="$need_fandol $file"
	fi
done < "$fonts/fonts.manifest"
if [ -n "$need_fandol" ]; then
	echo "deps: extracting$need_fandol from texlive-lang-chinese" >&2
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && apt-get download -qq texlive-lang-chinese >/dev/null 2>&1) || {
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
		(cd "$tmp" && apt-get download -qq texlive-lang-chinese >/dev/null)
	}
	dpkg-deb -x "$tmp"/texlive-lang-chinese_*.deb "$tmp/x"
	for f in $need_fandol; do
		cp "$tmp/x/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol/$f" "$fonts/$f.tmp"
		mv -f "$fonts/$f.tmp" "$fonts/$f"
	done
fi

# Verify every pinned font; a mismatch names the font.
status=0
while read -r file sum _rest; do
	case "$file" in ""|\#*) continue ;; /*) path=$file ;; *) path="$fonts/$file" ;; esac
	if [ ! -f "$path" ]; then
		echo "deps: font missing: $path" >&2; status=2
	elif [ "$(sha256sum "$path" | cut -d' ' -f1)" != "$sum" ]; then
		echo "deps: font $path does not match its pinned checksum in fonts/fonts.manifest" >&2; status=2
	fi
done < "$fonts/fonts.manifest"
exit $status
