#include "genzoo/train/archive_check.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "genzoo/core/error.h"
#include "genzoo/core/files.h"

namespace genzoo {

namespace {

// Thrown inside the check; check_torch_archive adds the file's name.
struct Corrupt {
  std::string reason;
};
[[noreturn]] void corrupt(const std::string& reason) { throw Corrupt{reason}; }

uint64_t le(const std::string& b, uint64_t at, int bytes) {
  if (at > b.size() || b.size() - at < static_cast<uint64_t>(bytes)) corrupt("its zip directory points past the end of the file");
  uint64_t v = 0;
  for (int k = bytes - 1; k >= 0; --k) v = (v << 8) | static_cast<unsigned char>(b[at + k]);
  return v;
}

// ASCII only, as miniz compares names.
std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// ---------------------------------------------------------------- zip ----

struct Entry {
  std::string name;
  uint64_t method = 0, compressed = 0, size = 0, data = 0;  // data: offset of the entry's bytes
};

// The zip directory as LibTorch's reader (miniz) sees it: the end record,
// its zip64 twin when present (LibTorch's writer always adds one), then one
// central header per entry, each pointing at a local header and the bytes.
std::vector<Entry> read_zip(const std::string& b) {
  constexpr uint64_t kEndSize = 22;
  if (b.size() < kEndSize) corrupt("it is too short to be a zip archive");
  uint64_t end = b.size() - kEndSize;
  const uint64_t lowest = end > 0xFFFF ? end - 0xFFFF : 0;
  while (le(b, end, 4) != 0x06054b50) {
    if (end == lowest) corrupt("it is not a zip archive (no end-of-directory record)");
    --end;
  }
  if (le(b, end + 4, 2) != 0 || le(b, end + 6, 2) != 0) corrupt("it is a multi-disk zip archive");
  uint64_t count = le(b, end + 10, 2), dir_size = le(b, end + 12, 4), dir_at = le(b, end + 16, 4);
  if (le(b, end + 8, 2) != count) corrupt("its zip end record counts its entries twice, differently");
  // The zip64 locator sits just before the end record; miniz trusts the
  // zip64 record it points to, so it must agree with the classic one.
  if (end >= 20 && le(b, end - 20, 4) == 0x07064b50) {
    const uint64_t z = le(b, end - 20 + 8, 8);
    if (le(b, z, 4) != 0x06064b50) corrupt("its zip64 locator points at no zip64 record");
    const uint64_t count64 = le(b, z + 32, 8), size64 = le(b, z + 40, 8), at64 = le(b, z + 48, 8);
    if (le(b, z + 24, 8) != count64) corrupt("its zip64 record counts its entries twice, differently");
    auto agree = [](uint64_t classic, uint64_t wide, uint64_t saturated) {
      return classic == saturated || classic == wide;
    };
    if (!agree(count, count64, 0xFFFF) || !agree(dir_size, size64, 0xFFFFFFFF) || !agree(dir_at, at64, 0xFFFFFFFF))
      corrupt("its zip64 record and its end record disagree");
    count = count64, dir_size = size64, dir_at = at64;
  }
  if (dir_at > b.size() || dir_size > b.size() - dir_at) corrupt("its zip directory lies outside the file");
  // A central header takes at least 46 bytes: the count must fit the directory.
  if (count > dir_size / 46) corrupt("its zip directory claims more entries than it can hold");

  std::vector<Entry> entries;
  std::set<std::string> names;
  uint64_t at = dir_at;
  for (uint64_t k = 0; k < count; ++k) {
    if (at + 46 > dir_at + dir_size || le(b, at, 4) != 0x02014b50) corrupt("its zip directory is damaged");
    Entry e;
    e.method = le(b, at + 10, 2);
    e.compressed = le(b, at + 20, 4);
    e.size = le(b, at + 24, 4);
    const uint64_t name_len = le(b, at + 28, 2), extra_len = le(b, at + 30, 2), comment_len = le(b, at + 32, 2);
    uint64_t local = le(b, at + 42, 4);
    if (at + 46 + name_len + extra_len + comment_len > dir_at + dir_size) corrupt("its zip directory is damaged");
    e.name = b.substr(at + 46, name_len);
    // LibTorch looks entries up by C string: a NUL would make it read
    // another entry than the one checked here.
    if (e.name.find('\0') != std::string::npos) corrupt("a zip entry's name holds a NUL byte");
    // miniz extracts nothing for what it takes as a folder, and LibTorch
    // would then read a buffer never written.
    if (e.name.empty() || e.name.back() == '/' || (le(b, at + 38, 4) & 0x10) != 0)
      corrupt("zip entry '" + e.name + "' is a folder");
    // Sizes past 4 GiB live in the zip64 extra field, in this order.
    if (e.size == 0xFFFFFFFF || e.compressed == 0xFFFFFFFF || local == 0xFFFFFFFF) {
      uint64_t x = at + 46 + name_len;
      const uint64_t x_end = x + extra_len;
      bool found = false;
      while (!found && x + 4 <= x_end) {
        const uint64_t id = le(b, x, 2), len = le(b, x + 2, 2);
        if (x + 4 + len > x_end) corrupt("a zip entry's extra field is damaged");
        if (id == 1) {
          uint64_t f = x + 4;
          auto take = [&](uint64_t& field) {
            if (field != 0xFFFFFFFF) return;
            if (f + 8 > x + 4 + len) corrupt("a zip entry's zip64 field is too short");
            field = le(b, f, 8);
            f += 8;
          };
          take(e.size);
          take(e.compressed);
          take(local);
          found = true;
        }
        x += 4 + len;
      }
      if (!found) corrupt("a zip entry of over 4 GiB has no zip64 sizes");
    }
    at += 46 + name_len + extra_len + comment_len;
    if (le(b, local, 4) != 0x04034b50) corrupt("zip entry '" + e.name + "' points at no local header");
    e.data = local + 30 + le(b, local + 26, 2) + le(b, local + 28, 2);
    if (e.data > b.size() || e.compressed > b.size() - e.data)
      corrupt("zip entry '" + e.name + "' runs past the end of the file");
    if (e.method == 0) {
      if (e.size != e.compressed) corrupt("stored zip entry '" + e.name + "' declares two different sizes");
    } else if (e.method == 8) {
      // Deflate expands at most 1,032 : 1; a header claiming more lies.
      // (miniz extracts nothing from 0 compressed bytes.)
      if ((e.compressed == 0 && e.size != 0) || e.size / 1032 > e.compressed + 1)
        corrupt("zip entry '" + e.name + "' claims " + std::to_string(e.size) + " bytes from " +
                std::to_string(e.compressed) + " compressed ones");
    } else {
      corrupt("zip entry '" + e.name + "' uses compression method " + std::to_string(e.method) +
              " (LibTorch writes only stored and deflated entries)");
    }
    // miniz may find entries by name without regard to case.
    if (!names.insert(lower(e.name)).second) corrupt("zip entry '" + e.name + "' appears twice");
    entries.push_back(std::move(e));
  }
  if (entries.empty()) corrupt("its zip archive is empty");
  return entries;
}

std::string entry_bytes(const std::string& b, const Entry& e) {
  if (e.method == 0) return b.substr(e.data, e.size);
  std::string out(e.size, '\0');
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) corrupt("zlib cannot start");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(b.data() + e.data));
  z.avail_in = static_cast<uInt>(std::min<uint64_t>(e.compressed, std::numeric_limits<uInt>::max()));
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(std::min<uint64_t>(e.size, std::numeric_limits<uInt>::max()));
  const int status = inflate(&z, Z_FINISH);
  const uint64_t produced = z.total_out;
  inflateEnd(&z);
  if (status != Z_STREAM_END || produced != e.size) corrupt("zip entry '" + e.name + "' does not inflate to its size");
  return out;
}

// ------------------------------------------------------------- pickle ----

// A pickle or code file of LibTorch's writer for genzoo's archives is a
// few kB (about 120 bytes a tensor); 1 MiB holds thousands of tensors, and
// bounds what the check, LibTorch's unpickler and its parser may allocate
// for one.
constexpr uint64_t kMaxEntryBytes = uint64_t{1} << 20;
// Nesting of containers, objects and tuples: genzoo's deepest archive
// nests about ten levels; LibTorch frees nested values recursively.
constexpr int kMaxDepth = 100;

// What the check tracks of an unpickled value: enough to follow tensors
// (their storages, offsets, sizes and strides: tuples of integers), the
// globals called, and how deep values nest.
struct Value {
  enum Kind { kOther, kInt, kStr, kGlobal, kTuple, kList, kDict, kStorage } kind = kOther;
  int64_t i = 0;                              // kInt: the value; kStorage: its element count
  std::string s, name;                        // kStr: s; kGlobal: module s and name
  std::vector<std::shared_ptr<Value>> items;  // kTuple
  int depth = 0;                              // levels of values nested inside
  bool contained = false;                     // kList, kDict: inside another value, so never grown again
};
using V = std::shared_ptr<Value>;

V make(Value::Kind kind) {
  auto v = std::make_shared<Value>();
  v->kind = kind;
  return v;
}

// Bytes per element of the storages LibTorch's pickler names (torch.XStorage).
int64_t storage_itemsize(const std::string& name) {
  static const std::map<std::string, int64_t> sizes = {
      {"ByteStorage", 1},  {"CharStorage", 1},     {"BoolStorage", 1},         {"ShortStorage", 2},
      {"HalfStorage", 2},  {"BFloat16Storage", 2}, {"IntStorage", 4},          {"FloatStorage", 4},
      {"LongStorage", 8},  {"DoubleStorage", 8},   {"ComplexFloatStorage", 8}, {"ComplexDoubleStorage", 16}};
  const auto it = sizes.find(name);
  return it == sizes.end() ? 0 : it->second;
}

bool all_digits(const std::string& s, size_t from = 0) {
  if (s.size() <= from) return false;
  for (size_t k = from; k < s.size(); ++k)
    if (s[k] < '0' || s[k] > '9') return false;
  return true;
}

// __torch__.Module or __torch__.___torch_mangle_N.Module: the classes
// torch::serialize::OutputArchive names (modules with attributes, no methods).
bool archive_class_module(const std::string& module) {
  static const std::string mangled = "__torch__.___torch_mangle_";
  return module == "__torch__" ||
         (module.rfind(mangled, 0) == 0 && module.size() - mangled.size() <= 9 && all_digits(module, mangled.size()));
}

// The globals LibTorch's pickler writes into genzoo's archives. Each,
// called by REDUCE or BUILD, takes one argument off the stack and leaves
// one value, which the stack tracking below relies on; any other global is
// refused.
bool known_global(const std::string& module, const std::string& name) {
  if (archive_class_module(module)) return name == "Module";
  if (module == "torch") return storage_itemsize(name) > 0;
  if (module == "torch._utils") return name == "_rebuild_tensor_v2";
  if (module == "collections") return name == "OrderedDict";
  if (module == "torch.jit._pickle")
    return name == "build_intlist" || name == "build_doublelist" || name == "build_boollist" ||
           name == "build_tensorlist";
  return false;
}

// A tensor built by _rebuild_tensor_v2(storage, offset, sizes, strides,
// ...): LibTorch 1.13 sets offset, sizes and strides as given, so every
// element they reach must lie inside the storage.
void check_tensor_view(const V& arg) {
  auto ints = [](const V& t, std::vector<int64_t>& out) {
    if (t->kind != Value::kTuple || t->items.size() > 64) return false;
    for (const V& x : t->items) {
      if (x->kind != Value::kInt || x->i < 0) return false;
      out.push_back(x->i);
    }
    return true;
  };
  std::vector<int64_t> sizes, strides;
  if (arg->kind != Value::kTuple || arg->items.size() < 4 || arg->items[0]->kind != Value::kStorage ||
      arg->items[1]->kind != Value::kInt || !ints(arg->items[2], sizes) || !ints(arg->items[3], strides) ||
      sizes.size() != strides.size())
    corrupt("a pickle rebuilds a tensor from arguments LibTorch's writer never writes");
  const uint64_t numel = static_cast<uint64_t>(arg->items[0]->i);
  const int64_t offset = arg->items[1]->i;
  if (offset < 0 || static_cast<uint64_t>(offset) > numel)
    corrupt("a tensor starts at element " + std::to_string(offset) + " of a storage of " + std::to_string(numel));
  if (std::find(sizes.begin(), sizes.end(), 0) != sizes.end()) return;  // no element to reach
  // The last element reached, and the element count, both within the
  // storage (so no view repeats elements beyond it either).
  unsigned __int128 last = static_cast<uint64_t>(offset), count = 1;
  for (size_t d = 0; d < sizes.size(); ++d) {
    last += static_cast<unsigned __int128>(sizes[d] - 1) * static_cast<uint64_t>(strides[d]);
    count *= static_cast<uint64_t>(sizes[d]);
    if (last >= numel || count > numel)
      corrupt("a tensor's sizes and strides reach past its storage of " + std::to_string(numel) + " elements");
  }
}

enum class PickleKind { kData, kConstants, kDebug, kOther };

// Walks one pickle (protocol 2, the opcodes LibTorch's unpickler knows) the
// way LibTorch's unpickler will, checking before it allocates: every length
// against the bytes left, every memo index against the memo, every mark
// against the stack, every tensor's storage (element count x element size)
// against the record holding its bytes and every tensor view against its
// storage. Storages of data.pkl live in ROOT/data/, of constants.pkl in
// ROOT/constants/; other pickles hold none.
void check_pickle(const std::string& p, PickleKind kind, const std::string& root,
                  const std::map<std::string, const Entry*>& by_name) {
  const std::string tensor_dir = kind == PickleKind::kData        ? root + "data/"
                                 : kind == PickleKind::kConstants ? root + "constants/"
                                                                  : std::string();
  static const V scalar = make(Value::kOther);  // None, booleans, floats: never changed
  size_t at = 0;
  auto need = [&](size_t n) {
    if (p.size() - at < n) corrupt("a pickle ends in the middle of an opcode");
  };
  auto u = [&](int bytes) {
    need(static_cast<size_t>(bytes));
    uint64_t v = 0;
    for (int k = bytes - 1; k >= 0; --k) v = (v << 8) | static_cast<unsigned char>(p[at + k]);
    at += bytes;
    return v;
  };
  auto line = [&]() {
    const size_t nl = p.find('\n', at);
    if (nl == std::string::npos) corrupt("a pickle's global name runs to the end");
    std::string s = p.substr(at, nl - at);
    at = nl + 1;
    return s;
  };
  std::vector<V> stack, memo;
  std::vector<size_t> marks;
  std::set<std::string> storage_keys;
  auto require = [&](size_t n) {
    if (stack.size() < n) corrupt("a pickle takes more values than its stack holds");
  };
  auto pop = [&]() {
    require(1);
    V v = stack.back();
    stack.pop_back();
    return v;
  };
  auto pop_mark = [&]() {
    if (marks.empty()) corrupt("a pickle closes a mark it never opened");
    const size_t start = marks.back();
    marks.pop_back();
    if (start > stack.size()) corrupt("a pickle's mark points past its stack");
    return start;
  };
  // `outer` takes in `inner`: it nests one level deeper, and a container
  // taken in is never grown again (so no depth is ever out of date).
  auto adopt = [&](Value& outer, const V& inner) {
    if (inner->kind == Value::kList || inner->kind == Value::kDict) inner->contained = true;
    outer.depth = std::max(outer.depth, inner->depth + 1);
    if (outer.depth > kMaxDepth) corrupt("a pickle nests values more than " + std::to_string(kMaxDepth) + " deep");
  };
  auto push_int = [&](int64_t i) {
    // Debug pickles of modules without methods hold only zeros (offsets
    // and indices into their text table).
    if (kind == PickleKind::kDebug && i != 0) corrupt("a debug pickle holds a non-zero number");
    auto v = make(Value::kInt);
    v->i = i;
    stack.push_back(v);
  };
  auto tuple_of = [&](size_t start) {
    auto t = make(Value::kTuple);
    t->items.assign(stack.begin() + static_cast<std::ptrdiff_t>(start), stack.end());
    for (const V& x : t->items) adopt(*t, x);
    stack.resize(start);
    stack.push_back(t);
  };
  // APPENDS, SETITEMS, SETITEM: items into the container below them.
  auto grow = [&](size_t start, Value::Kind container) {
    if (start == 0) corrupt("a pickle adds items to nothing");
    const V target = stack[start - 1];
    if (target->kind != container) corrupt("a pickle adds items to a value that is no container of theirs");
    if (target->contained) corrupt("a pickle grows a container after placing it inside another");
    for (size_t k = start; k < stack.size(); ++k) {
      if (stack[k] == target) corrupt("a pickle puts a container inside itself");
      adopt(*target, stack[k]);
    }
    stack.resize(start);
  };
  auto memo_put = [&](uint64_t id) {
    require(1);
    // LibTorch's pickler numbers memo entries 0, 1, 2, ...; the unpickler
    // would fill any gap up to the index given.
    if (id > memo.size()) corrupt("a pickle stores memo entry " + std::to_string(id) + " of " + std::to_string(memo.size()));
    if (id == memo.size()) memo.push_back(stack.back());
    else memo[id] = stack.back();
  };
  auto memo_get = [&](uint64_t id) {
    if (id >= memo.size()) corrupt("a pickle reads memo entry " + std::to_string(id) + " of " + std::to_string(memo.size()));
    stack.push_back(memo[id]);
  };

  if (u(1) != 0x80 || u(1) != 2) corrupt("a pickle is not of protocol 2");
  for (;;) {
    const auto op = static_cast<unsigned char>(u(1));
    switch (op) {
      case '.': {  // STOP
        if (kind == PickleKind::kDebug) {
          // ("FORMAT_WITH_STRING_TABLE", (text, ...), records): every index
          // is 0, so the text table must hold at least one string.
          const V top = stack.empty() ? scalar : stack.back();
          bool ok = top->kind == Value::kTuple && top->items.size() == 3 && top->items[0]->kind == Value::kStr &&
                    top->items[0]->s == "FORMAT_WITH_STRING_TABLE" && top->items[1]->kind == Value::kTuple &&
                    !top->items[1]->items.empty();
          for (size_t k = 0; ok && k < top->items[1]->items.size(); ++k) ok = top->items[1]->items[k]->kind == Value::kStr;
          if (!ok) corrupt("a debug pickle is not a (format, text table, records) tuple");
        }
        return;
      }
      case '(':  // MARK
        marks.push_back(stack.size());
        break;
      case ')':  // EMPTY_TUPLE
        tuple_of(stack.size());
        break;
      case ']':  // EMPTY_LIST
        stack.push_back(make(Value::kList));
        break;
      case '}':  // EMPTY_DICT
        stack.push_back(make(Value::kDict));
        break;
      case 0x88: case 0x89: case 'N':  // NEWTRUE, NEWFALSE, NONE
        stack.push_back(scalar);
        break;
      case 'K':  // BININT1
        push_int(static_cast<int64_t>(u(1)));
        break;
      case 'M':  // BININT2
        push_int(static_cast<int64_t>(u(2)));
        break;
      case 'J':  // BININT
        push_int(static_cast<int32_t>(static_cast<uint32_t>(u(4))));
        break;
      case 0x8a:  // LONG1: LibTorch reads 8-byte ones only
        if (u(1) != 8) corrupt("a pickle holds an integer LibTorch cannot read");
        push_int(static_cast<int64_t>(u(8)));
        break;
      case 'G':  // BINFLOAT
        need(8);
        at += 8;
        stack.push_back(scalar);
        break;
      case 'X': {  // BINUNICODE
        const uint64_t len = u(4);
        if (len > p.size() - at)
          corrupt("a pickle declares a string of " + std::to_string(len) + " bytes with " +
                  std::to_string(p.size() - at) + " left");
        auto v = make(Value::kStr);
        v->s = p.substr(at, len);
        at += len;
        stack.push_back(v);
        break;
      }
      case 't':  // TUPLE
        tuple_of(pop_mark());
        break;
      case 0x85: case 0x86: case 0x87: {  // TUPLE1, TUPLE2, TUPLE3
        const size_t n = op - 0x84u;
        require(n);
        tuple_of(stack.size() - n);
        break;
      }
      case 'e':  // APPENDS
        grow(pop_mark(), Value::kList);
        break;
      case 'u': {  // SETITEMS: key-value pairs (an odd count makes LibTorch read past its stack)
        const size_t start = pop_mark();
        if ((stack.size() - start) % 2 != 0) corrupt("a pickle's dictionary has a key without a value");
        grow(start, Value::kDict);
        break;
      }
      case 's':  // SETITEM
        require(3);
        grow(stack.size() - 2, Value::kDict);
        break;
      case 'l': case 'd': {  // LIST, DICT: a new container of the items since the mark
        const size_t start = pop_mark();
        if (op == 'd' && (stack.size() - start) % 2 != 0) corrupt("a pickle's dictionary has a key without a value");
        auto c = make(op == 'l' ? Value::kList : Value::kDict);
        for (size_t k = start; k < stack.size(); ++k) adopt(*c, stack[k]);
        stack.resize(start);
        stack.push_back(c);
        break;
      }
      case 'q':  // BINPUT
        memo_put(u(1));
        break;
      case 'r':  // LONG_BINPUT
        memo_put(u(4));
        break;
      case 'h':  // BINGET
        memo_get(u(1));
        break;
      case 'j':  // LONG_BINGET
        memo_get(u(4));
        break;
      case 'c': {  // GLOBAL
        auto g = make(Value::kGlobal);
        g->s = line();
        g->name = line();
        if (!known_global(g->s, g->name))
          corrupt("a pickle names '" + g->s.substr(0, 60) + "." + g->name.substr(0, 60) +
                  "', which LibTorch's writer never writes into genzoo's archives");
        stack.push_back(g);
        break;
      }
      case 0x81:  // NEWOBJ: drops the (empty) argument tuple
        pop();
        break;
      case 'b': case 'R': {  // BUILD, REDUCE: call a global on one argument
        const V arg = pop(), callee = pop();
        // LibTorch calls the global whose index is below the argument: one
        // pushed by GLOBAL (a storage global pushes a type, not an index).
        if (callee->kind != Value::kGlobal || callee->s == "torch")
          corrupt("a pickle calls something that is not a global it named");
        if (callee->name == "_rebuild_tensor_v2") check_tensor_view(arg);
        if (callee->s == "torch.jit._pickle" && arg->kind != Value::kTuple)
          corrupt("a pickle builds a list from something that is not a tuple");
        auto result = make(Value::kOther);
        adopt(*result, arg);
        stack.push_back(result);
        break;
      }
      case 'Q': {  // BINPERSID: a tensor's storage
        const V ref = pop();
        if (tensor_dir.empty()) corrupt("a pickle that holds no tensors refers to one");
        const auto& a = ref->items;
        if (ref->kind != Value::kTuple || a.size() != 5 || a[0]->kind != Value::kStr || a[0]->s != "storage" ||
            a[1]->kind != Value::kGlobal || a[1]->s != "torch" || a[2]->kind != Value::kStr ||
            a[3]->kind != Value::kStr || a[4]->kind != Value::kInt)
          corrupt("a pickle refers to a tensor storage in a form LibTorch's writer never writes");
        // The writer names storages 0, 1, 2, ... and names each once; LibTorch
        // reads a record afresh for every reference.
        const std::string& key = a[2]->s;
        if (key.size() > 18 || !all_digits(key)) corrupt("a tensor storage has the name '" + key.substr(0, 40) + "'");
        if (!storage_keys.insert(key).second) corrupt("tensor storage '" + key + "' is referred to twice");
        const int64_t itemsize = storage_itemsize(a[1]->name), numel = a[4]->i;
        if (numel < 0) corrupt("a tensor storage has " + std::to_string(numel) + " elements");
        if (numel > 0) {
          const std::string record = tensor_dir + key;
          const auto it = by_name.find(lower(record));
          if (it == by_name.end()) corrupt("tensor record '" + record + "' is missing");
          if (static_cast<uint64_t>(numel) > it->second->size / static_cast<uint64_t>(itemsize))
            corrupt("a tensor storage declares " + std::to_string(numel) + " elements of " + std::to_string(itemsize) +
                    " bytes, but its record '" + record + "' holds " + std::to_string(it->second->size) + " bytes");
        }
        auto storage = make(Value::kStorage);
        storage->i = numel;
        stack.push_back(storage);
        break;
      }
      default: {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", op);
        corrupt(std::string("a pickle holds opcode ") + hex + ", which LibTorch's writer never writes");
      }
    }
  }
}

// --------------------------------------------------------------- code ----

// The TorchScript LibTorch writes for an archive's modules: one class each,
// attributes and their types, no methods. LibTorch compiles it (and would
// run a __setstate__ method while loading), so nothing else is let through.
class CodeCheck {
 public:
  CodeCheck(const std::string& root, const std::map<std::string, const Entry*>& by_name)
      : root_(root), by_name_(by_name) {}

  void check(const std::string& text) {
    size_t begin = 0;
    int classes = 0;
    while (begin < text.size()) {
      size_t end = text.find('\n', begin);
      if (end == std::string::npos) end = text.size();
      const std::string l = text.substr(begin, end - begin);
      begin = end + 1;
      if (l.empty()) continue;
      if (l == "class Module(Module):") {
        if (++classes > 1) corrupt("its code defines two classes");
        continue;
      }
      if (classes == 0) corrupt("its code does not start with a module class");
      line_ = l;
      at_ = 0;
      if (!attribute_line()) corrupt("its code holds a line LibTorch's writer never writes: '" + l.substr(0, 60) + "'");
    }
    if (classes == 0) corrupt("its code defines no module");
  }

 private:
  bool eat(const std::string& s) {
    if (line_.compare(at_, s.size(), s) != 0) return false;
    at_ += s.size();
    return true;
  }
  bool ident() {
    const size_t start = at_;
    while (at_ < line_.size() && (std::isalnum(static_cast<unsigned char>(line_[at_])) || line_[at_] == '_')) ++at_;
    return at_ > start && !std::isdigit(static_cast<unsigned char>(line_[start]));
  }
  bool quoted() {
    if (!eat("\"")) return false;
    while (at_ < line_.size() && line_[at_] != '"') {
      if (line_[at_] == '\\') return false;
      ++at_;
    }
    return eat("\"");
  }
  bool type(int depth) {
    if (depth > 8 || line_.size() > 4096) return false;
    const size_t start = at_;
    while (at_ < line_.size() && (std::isalnum(static_cast<unsigned char>(line_[at_])) || line_[at_] == '_' || line_[at_] == '.'))
      ++at_;
    const std::string name = line_.substr(start, at_ - start);
    static const std::set<std::string> plain = {"Tensor", "int", "float", "bool", "str", "Any", "NoneType", "Device"};
    static const std::set<std::string> generic = {"Tuple", "List", "Optional", "Dict"};
    if (plain.count(name)) return true;
    if (generic.count(name)) {
      if (!eat("[") || !type(depth + 1)) return false;
      while (eat(", "))
        if (!type(depth + 1)) return false;
      return eat("]");
    }
    // A module class of the archive, whose code must be there.
    const std::string tail = ".Module";
    if (name.size() <= tail.size() || name.compare(name.size() - tail.size(), tail.size(), tail) != 0) return false;
    const std::string module = name.substr(0, name.size() - tail.size());
    if (!archive_class_module(module)) return false;
    std::string file = module;
    std::replace(file.begin(), file.end(), '.', '/');
    if (module == "__torch__") file = "__torch__";
    if (!by_name_.count(lower(root_ + "code/" + file + ".py"))) corrupt("its code refers to class " + name + ", which it lacks");
    return true;
  }
  bool names_list() {  // ["a", "b", ] or []
    if (!eat("[")) return false;
    while (!eat("]"))
      if (!quoted() || !eat(", ")) return false;
    return true;
  }
  bool attribute_line() {
    if (!eat("  ")) return false;
    if (eat("__parameters__ = ") || eat("__buffers__ = ")) return names_list() && at_ == line_.size();
    if (eat("__annotations__ = []")) return at_ == line_.size();
    if (eat("__annotations__[")) return quoted() && eat("] = ") && type(0) && at_ == line_.size();
    return ident() && eat(" : ") && type(0) && at_ == line_.size();
  }

  const std::string& root_;
  const std::map<std::string, const Entry*>& by_name_;
  std::string line_;
  size_t at_ = 0;
};

}  // namespace

void check_torch_archive(const std::string& bytes, const std::string& what) {
  try {
    const std::vector<Entry> entries = read_zip(bytes);
    std::map<std::string, const Entry*> by_name;
    for (const Entry& e : entries) by_name[lower(e.name)] = &e;
    // LibTorch's reader takes the first entry's folder as the archive's
    // root and reads root/data.pkl (tensors in root/data/), root/constants.pkl
    // (tensors in root/constants/), the code and its debug pickles.
    const std::string& first = entries.front().name;
    const size_t slash = first.find('/');
    if (slash == std::string::npos) corrupt("its first zip entry '" + first.substr(0, 80) + "' lies in no folder");
    const std::string root = lower(first.substr(0, slash + 1));
    CodeCheck code(root, by_name);
    // The code first (the unpickler compiles it as it meets each class),
    // then the pickles.
    for (const bool code_pass : {true, false}) {
      for (const Entry& e : entries) {
        const std::string name = lower(e.name);
        const bool is_code = ends_with(name, ".py");
        const bool is_pickle = ends_with(name, ".pkl") || ends_with(name, ".debug_pkl");
        if (is_code != code_pass || !(is_code || is_pickle)) continue;
        try {
          if (e.size > kMaxEntryBytes) corrupt("it is over 1 MiB");
          if (is_code) {
            code.check(entry_bytes(bytes, e));
            continue;
          }
          if (e.method != 0) corrupt("it is compressed (LibTorch's writer stores pickles)");
          const PickleKind kind = name == root + "data.pkl"        ? PickleKind::kData
                                  : name == root + "constants.pkl" ? PickleKind::kConstants
                                  : ends_with(name, ".debug_pkl")  ? PickleKind::kDebug
                                                                   : PickleKind::kOther;
          check_pickle(entry_bytes(bytes, e), kind, root, by_name);
        } catch (const Corrupt& c) {
          corrupt(e.name.substr(0, 80) + ": " + c.reason);
        }
      }
    }
  } catch (const Corrupt& c) {
    throw Error(what + " is corrupt: " + c.reason);
  }
}

}  // namespace genzoo
