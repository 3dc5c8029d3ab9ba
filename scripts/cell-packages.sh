# Sourced by scripts/build-cell-image.sh (and its test): the owner's per-group package
# lists, NANOCELL_CONFIG_DIR/cell-packages/GROUP, one Debian package name a line (# starts
# a comment). Their files are copied from the host's installed packages into a per-group
# layer at build time; nothing is ever installed by an agent at run time.
# Expects the function die.

CELL_PACKAGES_MAX=200
# What store/groups.ts allows as a group name
CELL_GROUP_NAME_RE='^[a-z0-9][a-z0-9_-]{0,62}$'
# Debian policy 5.6.1 (a package name), with an optional :arch
CELL_PACKAGE_NAME_RE='^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?$'

# read_cell_packages FILE: fill CELL_PACKAGES with the file's package names (sorted,
# without duplicates); die on a line that is not a package name
read_cell_packages() {
  local file="$1" line n=0 names=()
  CELL_PACKAGES=()
  [[ -f $file && ! -L $file ]] || die "$file: not a regular file (one Debian package name a line)"
  while IFS= read -r line || [[ -n $line ]]; do
    n=$((n + 1))
    line="${line%%#*}"
    line="${line#"${line%%[![:space:]]*}"}"
    line="${line%"${line##*[![:space:]]}"}"
    [[ -n $line ]] || continue
    [[ $line =~ $CELL_PACKAGE_NAME_RE ]] ||
      die "$file line $n: \"${line:0:80}\" is not a Debian package name (one name a line, # for comments)"
    names+=("$line")
    ((${#names[@]} <= CELL_PACKAGES_MAX)) ||
      die "$file: more than $CELL_PACKAGES_MAX packages; split the work or trim the list"
  done <"$file"
  ((${#names[@]} == 0)) || mapfile -t CELL_PACKAGES < <(printf '%s\n' "${names[@]}" | sort -u)
}

# check_cell_packages_installed GROUP PKG...: die naming apt-get install when a package is
# not installed on the host (the layer is copied from the host's own files)
check_cell_packages_installed() {
  local group="$1" p s missing=()
  shift
  for p in "$@"; do
    s="$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)"
    [[ $s == installed ]] || missing+=("$p")
  done
  ((${#missing[@]} == 0)) ||
    die "group $group lists packages that are not installed on the host: ${missing[*]}. The cell layer is copied from the host's installed packages: install them first (sudo apt-get install -y --no-install-recommends ${missing[*]}), or remove them from its cell-packages file, then run this again"
}

# cell_package_files PKG...: the files and symlinks the packages installed on the host,
# without their documentation
cell_package_files() {
  local p f
  for p in "$@"; do
    while IFS= read -r f; do
      case "$f" in
        /usr/share/doc/* | /usr/share/man/* | /usr/share/info/* | /usr/share/lintian/* | /usr/share/bug/*) continue ;;
      esac
      [[ -L $f || (-f $f && ! -d $f) ]] && printf '%s\n' "$f"
    done < <(dpkg -L "$p" 2>/dev/null)
  done
}
