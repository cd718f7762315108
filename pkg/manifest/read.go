package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"go.yaml.in/yaml/v3"
)

// input is one file to read, or a problem found while listing the paths.
type input struct {
	file  string
	stdin bool
	err   *Error
	// filled by load:
	data   []byte
	chunks []chunk
}

// chunk is one part of a file between "---" separators, parsed on its own
// so that a syntax error loses only that document and files can be parsed
// in parallel.
type chunk struct {
	fileName string
	data     []byte
	// lineOffset is the number of lines in the file before data.
	lineOffset int
	objs       []*Object
	errs       []*Error
}

// Read reads files, directories (only .yaml, .yml and .json files; with
// Recursive, subdirectories too; in lexical order) and "-" (opts.Stdin).
// Every problem is reported, not just the first: it returns the objects it
// could read and, when anything went wrong, an ErrorList (a value, not a
// pointer) with one *Error per problem, in file order.
//
// A document that has any problem is left out of the objects. A file that
// holds no object at all is an error, as is a directory without manifests
// and an object (same group, kind, namespace and name) given twice.
func Read(paths []string, opts Options) ([]*Object, error) {
	inputs := listInputs(paths, opts)
	// Reading waits on the disk more than on the CPU: more readers.
	parallel(len(inputs), max(runtime.GOMAXPROCS(0), 8), func(i int) { inputs[i].load(opts.Stdin) })
	var chunks []*chunk
	for _, in := range inputs {
		for j := range in.chunks {
			chunks = append(chunks, &in.chunks[j])
		}
	}
	parallel(len(chunks), runtime.GOMAXPROCS(0), func(i int) {
		c := chunks[i]
		c.objs, c.errs = parseChunk(c.fileName, c.data, c.lineOffset)
	})
	return assemble(inputs)
}

// assemble collects the results in input order and checks for empty files
// and duplicate objects.
func assemble(inputs []*input) ([]*Object, error) {
	var objs []*Object
	var errs ErrorList
	type id struct{ group, kind, ns, name string }
	seen := map[id]*Object{}
	for _, in := range inputs {
		if in.err != nil {
			errs = append(errs, in.err)
			continue
		}
		nobjs, nerrs := 0, 0
		for j := range in.chunks {
			c := &in.chunks[j]
			nerrs += len(c.errs)
			errs = append(errs, c.errs...)
			for _, o := range c.objs {
				nobjs++
				if o.Name != "" {
					k := id{groupOf(o.APIVersion), o.Kind, o.Namespace, o.Name}
					if first, dup := seen[k]; dup {
						errs = append(errs, &Error{Source: o.Source, Object: o.String(),
							Msg: fmt.Sprintf("duplicate object: also defined at %s", first.Source)})
						continue
					}
					seen[k] = o
				}
				objs = append(objs, o)
			}
			c.data, c.objs, c.errs = nil, nil, nil
		}
		if nobjs == 0 && nerrs == 0 {
			errs = append(errs, &Error{Source: Source{File: in.file}, Msg: "no objects found"})
		}
	}
	if len(errs) > 0 {
		return objs, errs
	}
	return objs, nil
}

// groupOf returns the group of an apiVersion ("" for "v1").
func groupOf(apiVersion string) string {
	if i := strings.IndexByte(apiVersion, '/'); i >= 0 {
		return apiVersion[:i]
	}
	return ""
}

// listInputs expands paths into the files to read, in order.
func listInputs(paths []string, opts Options) []*input {
	var out []*input
	stdinSeen := false
	for _, p := range paths {
		if p == "-" {
			in := &input{file: "-", stdin: true}
			if stdinSeen {
				in.err = &Error{Source: Source{File: "-"}, Msg: "standard input given more than once"}
			}
			stdinSeen = true
			out = append(out, in)
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			out = append(out, &input{file: p, err: &Error{Source: Source{File: p}, Msg: osMessage(err)}})
			continue
		}
		if !fi.IsDir() {
			out = append(out, &input{file: p})
			continue
		}
		out = append(out, listDir(p, opts.Recursive)...)
	}
	return out
}

// listDir returns the manifests in dir (and its subdirectories when
// recursive) in lexical order.
func listDir(dir string, recursive bool) []*input {
	var out []*input
	found := false
	walkErr := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			out = append(out, &input{file: path, err: &Error{Source: Source{File: path},
				Msg: "cannot read directory: " + osMessage(err)}})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if path != dir && !recursive {
				return fs.SkipDir
			}
			return nil
		}
		if !isManifestName(d.Name()) {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			// Follow links to files, not to directories (no cycles).
			fi, err := os.Stat(path)
			if err != nil {
				out = append(out, &input{file: path, err: &Error{Source: Source{File: path}, Msg: osMessage(err)}})
				return nil
			}
			if fi.IsDir() {
				return nil
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		found = true
		out = append(out, &input{file: path})
		return nil
	})
	if walkErr != nil {
		out = append(out, &input{file: dir, err: &Error{Source: Source{File: dir}, Msg: osMessage(walkErr)}})
	}
	if !found && len(out) == 0 {
		msg := "no manifests (.yaml, .yml, .json) found in directory"
		if !recursive {
			msg += " (use -R to read subdirectories)"
		}
		out = append(out, &input{file: dir, err: &Error{Source: Source{File: dir}, Msg: msg}})
	}
	return out
}

func isManifestName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// osMessage is an OS error without the operation and path (the caller
// prints the path).
func osMessage(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// load reads the input and splits it into chunks.
func (in *input) load(stdin io.Reader) {
	if in.err != nil {
		return
	}
	var data []byte
	var err error
	if in.stdin {
		if stdin == nil {
			in.err = &Error{Source: Source{File: "-"}, Msg: "no standard input to read"}
			return
		}
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(in.file)
	}
	if err != nil {
		in.err = &Error{Source: Source{File: in.file}, Msg: osMessage(err)}
		return
	}
	in.data = data
	in.chunks = splitDocuments(in.file, data)
}

// splitDocuments cuts data at "---" document separators (a line starting
// with "---" followed by nothing or whitespace). The separator line starts
// the next chunk, so that content after "--- " stays with its document.
func splitDocuments(file string, data []byte) []chunk {
	var out []chunk
	start, startLine := 0, 0
	line := 0
	for pos := 0; pos < len(data); {
		end := bytes.IndexByte(data[pos:], '\n')
		next := len(data)
		if end >= 0 {
			next = pos + end + 1
		}
		if pos > start && isSeparator(data[pos:next]) {
			out = append(out, chunk{fileName: file, data: data[start:pos], lineOffset: startLine})
			start, startLine = pos, line
		}
		pos = next
		line++
	}
	out = append(out, chunk{fileName: file, data: data[start:], lineOffset: startLine})
	return out
}

func isSeparator(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("---")) {
		return false
	}
	if len(line) == 3 {
		return true
	}
	switch line[3] {
	case ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

// parallel calls f(0..n-1) on up to workers goroutines and waits.
func parallel(n, workers int, f func(i int)) {
	workers = min(workers, n)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (?s:(.*))$`)

// parseChunk parses the documents of one chunk: with the fast parser when
// it can, else with yaml/v3.
func parseChunk(file string, data []byte, lineOffset int) (objs []*Object, errs []*Error) {
	if m, line, col, empty, ok := fastParse(data, budgetFor(len(data))); ok {
		if empty {
			return nil, nil
		}
		if kind, _ := m["kind"].(string); !isListKind(kind) {
			c := &converter{file: file, lineOffset: lineOffset}
			src := Source{File: file, Line: line + lineOffset, Column: col}
			c.objects(m, src, &positions{doc: data, lineOffset: lineOffset}, 0, &objs, &errs)
			return objs, errs
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := decode(dec, &doc)
		if err == io.EOF {
			return objs, errs
		}
		if err != nil {
			errs = append(errs, syntaxError(file, lineOffset, err))
			return objs, errs
		}
		c := &converter{file: file, lineOffset: lineOffset, budget: budgetFor(len(data))}
		c.budgetStart = c.budget
		o, e := c.document(&doc)
		objs = append(objs, o...)
		errs = append(errs, e...)
	}
}

// decode runs the YAML parser, turning a panic inside it into an error.
func decode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: cannot parse document: %v", r)
		}
	}()
	return dec.Decode(n)
}

// isParserError tells the messages of go.yaml.in/yaml/v3's parser (whose
// line numbers are 0-based) from its scanner's (1-based).
func isParserError(msg string) bool {
	for _, p := range []string{"did not find expected", "found undefined tag handle",
		"found duplicate %", "found incompatible YAML document"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// syntaxError turns a YAML parser error into an Error at its line.
func syntaxError(file string, lineOffset int, err error) *Error {
	msg := err.Error()
	line := lineOffset + 1
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		msg = m[2]
		if n, convErr := strconv.Atoi(m[1]); convErr == nil {
			// The parser (unlike the scanner) reports 0-based lines.
			if isParserError(msg) {
				n++
			}
			line = lineOffset + n
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	return &Error{Source: Source{File: file, Line: line}, Msg: "invalid YAML: " + msg}
}
