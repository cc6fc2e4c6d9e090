// Command govectors writes the Go-made test data of tests/data/go-vectors.json.
//
//	govectors gen > go-vectors.json   gob vectors (each encoded by a fresh process) and JSON floats
//	govectors one ID                  (internal) the gob hex of vector ID, from this fresh process
//	govectors check < go-vectors.json Go decodes each vector's python_hex and compares it with
//	                                  its own value; writes the file back with go_accepts_python_hex
//
// Gob gives type ids out in the order a process meets types, so each vector is encoded by a new
// process: the bytes are what any fresh Go service writes.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/sessions" // registers []interface{} as gorilla does
)

type Role string
type Level uint8

type Person struct {
	Name  string
	Age   int
	Tags  []string
	Score float64
	Extra map[string]string
}

type Address struct {
	City string
	Zip  int32
}

type Account struct {
	Owner Person
	Home  Address
	Roles []Role
	Meta  map[string]interface{}
	Flags [2]bool
	Any   interface{}
}

type Tree struct {
	Label string
	Kids  []Tree
}

func init() {
	gob.Register(map[string]interface{}{})
	gob.Register(map[interface{}]interface{}{})
	gob.Register(map[string]string{})
	gob.Register(map[string]int64{})
	gob.Register(map[string][]string{})
	gob.Register([]map[string]interface{}{})
	gob.Register(Person{})
	gob.Register(&Address{})
	gob.Register(Account{})
	gob.Register(Tree{})
	gob.Register(Role(""))
	gob.Register(Level(0))
	gob.Register([3]int{})
	gob.Register([]Role{})
}

type vector struct {
	id   string
	top  interface{} // a top-level value (Encode(top)), or nil for Session.Values
	vals map[interface{}]interface{}
}

func one(key, value interface{}) map[interface{}]interface{} {
	return map[interface{}]interface{}{key: value}
}

func vectors() []vector {
	person := Person{Name: "Ann", Age: 30, Tags: []string{"a", "b"}, Score: 1.5, Extra: map[string]string{"k": "v"}}
	account := Account{
		Owner: person,
		Home:  Address{City: "Oslo", Zip: 150},
		Roles: []Role{"admin"},
		Meta:  map[string]interface{}{"n": int64(1)},
		Flags: [2]bool{true, false},
		Any:   []string{"x"},
	}
	vs := []vector{
		{id: "int", vals: one("v", 42)},
		{id: "int-big", vals: one("v", -1<<62)},
		{id: "int64", vals: one("v", int64(300))},
		{id: "int64-negative", vals: one("v", int64(-5))},
		{id: "int32", vals: one("v", int32(-70000))},
		{id: "int16", vals: one("v", int16(1234))},
		{id: "int8", vals: one("v", int8(-8))},
		{id: "uint", vals: one("v", uint(7))},
		{id: "uint8", vals: one("v", uint8(255))},
		{id: "uint16", vals: one("v", uint16(65535))},
		{id: "uint32", vals: one("v", uint32(4000000000))},
		{id: "uint64-max", vals: one("v", uint64(math.MaxUint64))},
		{id: "uintptr", vals: one("v", uintptr(42))},
		{id: "float64", vals: one("v", 0.1)},
		{id: "float32", vals: one("v", float32(0.1))},
		{id: "complex128", vals: one("v", 3-4i)},
		{id: "complex64", vals: one("v", complex64(1+2i))},
		{id: "string", vals: one("v", "hello")},
		{id: "bool", vals: one("v", true)},
		{id: "bytes", vals: one("v", []byte{1, 2, 3})},
		{id: "nil", vals: one("v", nil)},
		{id: "int-key", vals: one(42, 43)},
		{id: "int64-key", vals: one(int64(7), "seven")},
		{id: "strings", vals: one("roles", []string{"admin", "editor"})},
		{id: "strings-empty", vals: one("roles", []string{})},
		{id: "ints", vals: one("v", []int{1, -2})},
		{id: "int64s", vals: one("v", []int64{1, 1 << 40})},
		{id: "uint16s", vals: one("v", []uint16{1, 65535})},
		{id: "float64s", vals: one("v", []float64{0.5, -2})},
		{id: "float32s", vals: one("v", []float32{1.5, 0.1})},
		{id: "bools", vals: one("v", []bool{true, false})},
		{id: "any-slice", vals: one("v", []interface{}{"a", 1, nil, true})},
		{id: "any-slice-typed", vals: one("v", []interface{}{"a", int64(1), []string{"x"}})},
		{id: "flash", vals: one("_flash", []interface{}{"hi"})},
		{id: "map-string-any", vals: one("v", map[string]interface{}{"a": 1})},
		{id: "map-string-any-nested", vals: one("v", map[string]interface{}{"b": []interface{}{1, "x"}})},
		{id: "map-any-any", vals: one("v", map[interface{}]interface{}{1: "x"})},
		{id: "map-string-string", vals: one("v", map[string]string{"k": "v"})},
		{id: "map-string-int64", vals: one("v", map[string]int64{"n": 5})},
		{id: "map-string-strings", vals: one("v", map[string][]string{"r": {"x", "y"}})},
		{id: "slice-of-maps", vals: one("v", []map[string]interface{}{{"a": "b"}})},
		{id: "struct", vals: one("user", person)},
		{id: "struct-zero", vals: one("user", Person{})},
		{id: "struct-pointer", vals: one("addr", &Address{City: "Oslo", Zip: 150})},
		{id: "struct-nested", vals: one("account", account)},
		{id: "struct-recursive", vals: one("tree", Tree{Label: "root", Kids: []Tree{{Label: "leaf"}}})},
		{id: "named-string", vals: one("role", Role("admin"))},
		{id: "named-uint8", vals: one("level", Level(3))},
		{id: "named-slice", vals: one("roles", []Role{"a", "b"})},
		{id: "array", vals: one("v", [3]int{1, 2, 3})},
		{id: "order-map-first", vals: one("v", []interface{}{map[string]interface{}{"a": []string{"b"}}})},
		{id: "order-slice-first", vals: one("v", map[string]interface{}{"a": []interface{}{[]int64{1}}})},
		{id: "types-twice", vals: one("v", []interface{}{[]string{"a"}, []string{"b"}, person, person})},
		{id: "session", vals: map[interface{}]interface{}{
			"user_id": int64(12345678901), "roles": []string{"admin"}, "name": "Ann", "n": 1,
			"ratio": float32(0.25), "level": uint8(3), "prefs": map[string]string{"theme": "dark"},
			"extra": map[string]interface{}{"x": 1.5}, "_flash": []interface{}{"welcome"},
			"user": person, 42: true,
		}},
		{id: "top-string", top: "hello"},
		{id: "top-int64", top: int64(-300)},
		{id: "top-strings", top: []string{"a", "b"}},
		{id: "top-any-slice", top: []interface{}{"a", 1}},
		{id: "top-map-string-any", top: map[string]interface{}{"a": int64(1)}},
		{id: "top-struct", top: person},
		{id: "top-array", top: [3]int{4, 5, 6}},
	}
	return vs
}

func find(id string) vector {
	for _, v := range vectors() {
		if v.id == id {
			return v
		}
	}
	panic("no vector " + id)
}

func (v vector) value() interface{} {
	if v.top != nil {
		return v.top
	}
	return v.vals
}

func encode(v vector) []byte {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v.value()); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// decode reads data into a new value of v's type, as a Go service would.
func decode(v vector, data []byte) (interface{}, error) {
	dst := reflect.New(reflect.TypeOf(v.value()))
	err := gob.NewDecoder(bytes.NewReader(data)).DecodeValue(dst)
	return dst.Elem().Interface(), err
}

func deterministic(value reflect.Value) bool {
	switch value.Kind() {
	case reflect.Interface, reflect.Pointer:
		return value.IsNil() || deterministic(value.Elem())
	case reflect.Map:
		if value.Len() > 1 {
			return false
		}
		it := value.MapRange()
		for it.Next() {
			if !deterministic(it.Key()) || !deterministic(it.Value()) {
				return false
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < value.Len(); i++ {
			if !deterministic(value.Index(i)) {
				return false
			}
		}
	case reflect.Struct:
		for i := 0; i < value.NumField(); i++ {
			if !deterministic(value.Field(i)) {
				return false
			}
		}
	}
	return true
}

// goTypes names the Go type of each value in the map (by the key's %v), or of the top value.
func goTypes(v vector) map[string]string {
	types := map[string]string{}
	if v.top != nil {
		types[""] = fmt.Sprintf("%T", v.top)
		return types
	}
	for key, value := range v.vals {
		name := "<nil>"
		if value != nil {
			name = fmt.Sprintf("%T", value)
		}
		types[fmt.Sprintf("%v", key)] = name
		types["key:"+fmt.Sprintf("%v", key)] = fmt.Sprintf("%T", key)
	}
	return types
}

type floatCase struct {
	Bits string `json:"bits"` // IEEE-754 bits of the float64, hex
	JSON string `json:"json"` // encoding/json's text for it
}

func floats() []floatCase {
	values := []float64{
		0, math.Copysign(0, -1), 1, -1, 2, 0.1, 0.5, 1.5, 100, 1e-6, -1e-6, 1e-7, 9.99999e-7,
		1.5e-7, 1e-10, 1e20, 1e21, 9.999999999999999e20, 123456789012345678, 1e100, 1.5e300,
		1.7976931348623157e308, -1.7976931348623157e308, 5e-324, 2.2250738585072014e-308,
		math.Pi, 1.0 / 3, 2.0 / 3, 12345.678, 0.000123, 1e15, 1e16, 1e17, 4503599627370496.5,
		9007199254740993, float64(float32(0.1)), float64(float32(1.0 / 3)),
		float64(float32(3.4028234663852886e38)), float64(float32(1e-45)), float64(float32(16777217)),
	}
	r := rand.New(rand.NewSource(12))
	for i := 0; i < 300; i++ {
		values = append(values, math.Float64frombits(r.Uint64()))
		values = append(values, r.NormFloat64()*math.Pow(10, float64(r.Intn(60)-30)))
	}
	out := []floatCase{}
	for _, f := range values {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		text, err := json.Marshal(f)
		if err != nil {
			panic(err)
		}
		out = append(out, floatCase{strconv.FormatUint(math.Float64bits(f), 16), string(text)})
	}
	return out
}

type float32Case struct {
	Bits string `json:"bits"` // IEEE-754 bits of the float32, hex
	JSON string `json:"json"` // encoding/json's text for the float32
}

func floats32() []float32Case {
	values := []float32{
		0, float32(math.Copysign(0, -1)), 1, 2, 0.1, 1.0 / 3, 1e-6, 9.999999e-7, 1e-7, 1e20, 1e21,
		math.MaxFloat32, math.SmallestNonzeroFloat32, 16777217, 3.4e38, 0.25, 123.456,
	}
	r := rand.New(rand.NewSource(32))
	for i := 0; i < 200; i++ {
		values = append(values, math.Float32frombits(r.Uint32()))
		values = append(values, float32(r.NormFloat64()*math.Pow(10, float64(r.Intn(50)-25))))
	}
	out := []float32Case{}
	for _, f := range values {
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			continue
		}
		text, err := json.Marshal(f)
		if err != nil {
			panic(err)
		}
		out = append(out, float32Case{strconv.FormatUint(uint64(math.Float32bits(f)), 16), string(text)})
	}
	return out
}

// filesystem runs gorilla's FilesystemStore on the cases tests/backends/test_filesystem.py
// replays: a session too long for the default MaxLength, one saved under MaxLength(8192), and
// a file whose mtime says it is 25 years old (Go judges age by the timestamp inside).
func filesystem() map[string]interface{} {
	hashKey := sha256.Sum256([]byte("govectors filesystem hash key"))
	blockKey := sha256.Sum256([]byte("govectors filesystem block key"))
	dir, err := os.MkdirTemp("", "govectors")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	store := sessions.NewFilesystemStore(dir, hashKey[:], blockKey[:])
	blank := httptest.NewRequest("GET", "/", nil)
	save := func(key, value string) (string, string, string) {
		session, _ := store.New(blank, "s")
		session.Values[key] = value
		rec := httptest.NewRecorder()
		if err := store.Save(blank, rec, session); err != nil {
			return "", "", err.Error()
		}
		content, err := os.ReadFile(filepath.Join(dir, "session_"+session.ID))
		if err != nil {
			panic(err)
		}
		return rec.Result().Cookies()[0].Value, string(content), session.ID
	}
	load := func(cookie string) (*sessions.Session, error) {
		req := httptest.NewRequest("GET", "/", nil)
		req.AddCookie(&http.Cookie{Name: "s", Value: cookie})
		return store.New(req, "s")
	}

	_, _, tooLong := save("big", strings.Repeat("x", 3000))

	store.MaxLength(8192)
	longCookie, longFile, longID := save("big", strings.Repeat("y", 3000))
	store.MaxLength(4096)
	_, refused := load(longCookie)

	oldCookie, oldFile, oldID := save("user", "ann")
	ancient := time.Unix(1000000000, 0)
	if err := os.Chtimes(filepath.Join(dir, "session_"+oldID), ancient, ancient); err != nil {
		panic(err)
	}
	loaded, err := load(oldCookie)
	return map[string]interface{}{
		"hash_key":             hex.EncodeToString(hashKey[:]),
		"block_key":            hex.EncodeToString(blockKey[:]),
		"name":                 "s",
		"too_long_error":       tooLong,
		"long_cookie":          longCookie,
		"long_file":            longFile,
		"long_id":              longID,
		"default_refuses_long": refused.Error(),
		"old_mtime_cookie":     oldCookie,
		"old_mtime_file":       oldFile,
		"old_mtime_id":         oldID,
		"old_mtime":            ancient.Unix(),
		"old_mtime_go_loaded":  err == nil && loaded.Values["user"] == "ann",
		"old_mtime_go_max_age": store.Options.MaxAge,
	}
}

func gen() {
	type entry struct {
		ID            string            `json:"id"`
		Top           bool              `json:"top"`
		Deterministic bool              `json:"deterministic"`
		Hex           string            `json:"hex"`
		GoTypes       map[string]string `json:"go_types"`
	}
	entries := []entry{}
	for _, v := range vectors() {
		out, err := exec.Command(os.Args[0], "one", v.id).Output()
		if err != nil {
			panic(fmt.Sprintf("%s: %v", v.id, err))
		}
		entries = append(entries, entry{
			ID: v.id, Top: v.top != nil, Deterministic: deterministic(reflect.ValueOf(v.value())),
			Hex: string(out), GoTypes: goTypes(v),
		})
	}
	doc := map[string]interface{}{
		"about": "Made by tools/govectors (see its README) with encoding/gob and encoding/json of " +
			"go " + runtimeVersion() + ", gorilla/sessions bb4cd60 and securecookie eae3c18. gob: each hex " +
			"is one gob.NewEncoder(w).Encode of the vector's value in a fresh process (Session.Values, a " +
			"map[interface{}]interface{}, unless top); deterministic: no map in it has more than one " +
			"entry, so the bytes are the same in every run; go_types: Go's %T of each value and key. " +
			"python_hex: what websession's GobSerializer writes back after decoding hex; " +
			"go_accepts_python_hex: Go decoded python_hex into a value reflect.DeepEqual to its own " +
			"decoding of hex. floats: float64 bits (hex) and json.Marshal's text; floats32: the same " +
			"for float32 values (Go writes the shortest text that reads back as the same float32). " +
			"filesystem: gorilla's FilesystemStore (gob, keys given) refusing a 3000-byte value at " +
			"the default MaxLength, saving one under MaxLength(8192) and refusing to read it back at " +
			"4096, and loading a file whose mtime was set to 2001 (its timestamp decides).",
		"gob":        entries,
		"floats":     floats(),
		"floats32":   floats32(),
		"filesystem": filesystem(),
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(doc); err != nil {
		panic(err)
	}
}

func check() {
	var doc map[string]interface{}
	if err := json.NewDecoder(os.Stdin).Decode(&doc); err != nil {
		panic(err)
	}
	failed := 0
	for _, raw := range doc["gob"].([]interface{}) {
		entry := raw.(map[string]interface{})
		v := find(entry["id"].(string))
		original, err := hex.DecodeString(entry["hex"].(string))
		if err != nil {
			panic(err)
		}
		want, err := decode(v, original)
		if err != nil {
			panic(err)
		}
		ours, _ := entry["python_hex"].(string)
		data, err := hex.DecodeString(ours)
		ok := false
		if err == nil && ours != "" {
			got, err := decode(v, data)
			ok = err == nil && reflect.DeepEqual(got, want)
			if !ok {
				fmt.Fprintf(os.Stderr, "%s: %v\n  want %#v\n  got  %#v\n", v.id, err, want, got)
			}
		}
		if !ok {
			failed++
		}
		entry["go_accepts_python_hex"] = ok
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(doc); err != nil {
		panic(err)
	}
	fmt.Fprintf(os.Stderr, "%d vectors, %d not accepted\n", len(doc["gob"].([]interface{})), failed)
	if failed > 0 {
		os.Exit(1)
	}
}

func main() {
	_ = sessions.NewSession // gorilla/sessions' init registers []interface{}
	switch {
	case len(os.Args) == 3 && os.Args[1] == "one":
		fmt.Print(hex.EncodeToString(encode(find(os.Args[2]))))
	case len(os.Args) == 2 && os.Args[1] == "gen":
		gen()
	case len(os.Args) == 2 && os.Args[1] == "check":
		check()
	default:
		fmt.Fprintln(os.Stderr, "usage: govectors gen | check | one ID")
		os.Exit(2)
	}
}

func runtimeVersion() string { return runtime.Version() }
