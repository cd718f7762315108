package plugin

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// Prefix starts the file name of every kl plugin.
const Prefix = "kl-"

// Dirs returns the directories searched for plugins, in order: the user's
// ~/.kl/plugins (when home is not empty), then each directory of pathList
// (the PATH variable). Relative PATH entries, including empty ones, are
// skipped, so that a plugin is never picked up from the current directory;
// so are repeated directories.
func Dirs(pathList, home string) []string {
	var dirs []string
	if home != "" {
		dirs = append(dirs, filepath.Join(home, ".kl", "plugins"))
	}
	for _, d := range filepath.SplitList(pathList) {
		if d == "" || !filepath.IsAbs(d) {
			continue
		}
		d = filepath.Clean(d)
		if !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// DefaultDirs returns Dirs for the process's PATH and home directory.
func DefaultDirs() []string {
	home, _ := os.UserHomeDir()
	return Dirs(os.Getenv("PATH"), home)
}

// Finder looks for plugins in directories.
type Finder struct {
	// Dirs are searched in order; the first plugin of a name wins.
	Dirs []string
}

// Plugin is a plugin found for a command line.
type Plugin struct {
	// Path is the executable.
	Path string
	// Command is the kl command it implements, e.g. ["foo-bar", "baz"] for
	// kl-foo_bar-baz.
	Command []string
}

// Find returns the plugin that runs args (kl's arguments from the command
// name on) and the arguments to pass it. The command words are the leading
// arguments up to the first flag; the plugin named after the most of them
// wins: for `kl foo bar -x baz`, kl-foo-bar is tried, then kl-foo. ok is
// false when there is none.
func (f Finder) Find(args []string) (p Plugin, rest []string, ok bool) {
	var words []string
	for _, a := range args {
		if a == "" || strings.HasPrefix(a, "-") || strings.ContainsAny(a, `/\`+string(os.PathListSeparator)) {
			break
		}
		words = append(words, strings.ReplaceAll(a, "-", "_"))
	}
	for n := len(words); n > 0; n-- {
		name := Prefix + strings.Join(words[:n], "-")
		if path, ok := f.lookPath(name); ok {
			return Plugin{Path: path, Command: args[:n:n]}, args[n:], true
		}
	}
	return Plugin{}, nil, false
}

// lookPath returns the first executable file called name in f.Dirs.
func (f Finder) lookPath(name string) (string, bool) {
	for _, dir := range f.Dirs {
		for _, file := range executableNames(name) {
			path := filepath.Join(dir, file)
			if fi, err := os.Stat(path); err == nil && isExecutable(path, fi) {
				return path, true
			}
		}
	}
	return "", false
}

// Entry is a file found by List.
type Entry struct {
	// Path is the file.
	Path string
	// Name is the file name without directory and, on Windows, extension.
	Name string
	// Command is the kl command it would implement.
	Command []string
	// Executable is false for a file that cannot run.
	Executable bool
	// ShadowedBy is the path of an earlier plugin of the same name, which
	// runs instead of this one.
	ShadowedBy string
	// Builtin is the built-in command (its first word) that runs instead
	// of this plugin, or "".
	Builtin string
}

// Warnings describes, in kubectl's words, why the entry is not or cannot
// be used.
func (e Entry) Warnings() []string {
	var w []string
	if !e.Executable {
		w = append(w, "warning: "+e.Path+" identified as a kl plugin, but it is not executable")
	}
	if e.Builtin != "" {
		w = append(w, "warning: "+e.Path+" is overshadowed by the built-in command \"kl "+e.Builtin+"\" and will never run")
	}
	if e.ShadowedBy != "" {
		w = append(w, "warning: "+e.Path+" is overshadowed by a similarly named plugin: "+e.ShadowedBy)
	}
	return w
}

// List returns every file whose name starts with Prefix in f.Dirs, in
// search order (directory by directory, names sorted). isBuiltin tells
// whether a command name is built into kl; it may be nil. Directories that
// cannot be read are skipped.
func (f Finder) List(isBuiltin func(name string) bool) []Entry {
	var entries []Entry
	first := map[string]string{} // plugin name -> the path that wins
	for _, dir := range f.Dirs {
		files, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, de := range files {
			if !strings.HasPrefix(de.Name(), Prefix) {
				continue
			}
			path := filepath.Join(dir, de.Name())
			fi, err := os.Stat(path) // follows symlinks
			if err != nil || fi.IsDir() {
				continue
			}
			name := pluginName(de.Name())
			e := Entry{Path: path, Name: name, Command: CommandOf(name), Executable: isExecutable(path, fi)}
			if isBuiltin != nil && len(e.Command) > 0 && isBuiltin(e.Command[0]) {
				e.Builtin = e.Command[0]
			}
			if e.Executable {
				if winner, ok := first[name]; ok {
					e.ShadowedBy = winner
				} else {
					first[name] = path
				}
			}
			entries = append(entries, e)
		}
	}
	return entries
}

// CommandOf returns the command words of a plugin name: "kl-foo_bar-baz"
// is ["foo-bar", "baz"].
func CommandOf(name string) []string {
	name = strings.TrimPrefix(name, Prefix)
	if name == "" {
		return nil
	}
	words := strings.Split(name, "-")
	for i, w := range words {
		words[i] = strings.ReplaceAll(w, "_", "-")
	}
	return words
}

// windowsExts are the extensions of executables on Windows.
var windowsExts = []string{".exe", ".bat", ".cmd", ".com"}

// pluginName strips a Windows executable extension from a file name.
func pluginName(file string) string {
	if runtime.GOOS == "windows" {
		ext := strings.ToLower(filepath.Ext(file))
		if slices.Contains(windowsExts, ext) {
			return file[:len(file)-len(ext)]
		}
	}
	return file
}

// executableNames returns the file names a plugin called name may have.
func executableNames(name string) []string {
	if runtime.GOOS != "windows" {
		return []string{name}
	}
	names := make([]string, len(windowsExts))
	for i, ext := range windowsExts {
		names[i] = name + ext
	}
	return names
}

// isExecutable reports whether the file at path (fi from os.Stat) can run.
func isExecutable(path string, fi os.FileInfo) bool {
	if !fi.Mode().IsRegular() {
		return false
	}
	if runtime.GOOS == "windows" {
		return slices.Contains(windowsExts, strings.ToLower(filepath.Ext(path)))
	}
	return fi.Mode().Perm()&0o111 != 0
}
