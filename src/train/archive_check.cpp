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

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool ends_with_lower(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && lower(s.substr(s.size() - tail.size())) == tail;
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
      if (e.size / 1032 > e.compressed + 1)
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

// What the check tracks of an unpickled value: enough to follow tensor
// references (tuples of strings and integers, and globals); anything else
// is "other".
struct Value {
  enum Kind { kOther, kInt, kStr, kGlobal, kTuple } kind = kOther;
  int64_t i = 0;
  std::string s, name;  // kStr: s; kGlobal: module s, name
  std::vector<std::shared_ptr<const Value>> items;
};
using V = std::shared_ptr<const Value>;

std::shared_ptr<Value> make(Value::Kind kind) {
  auto v = std::make_shared<Value>();
  v->kind = kind;
  return v;
}

// Bytes per element of the storages LibTorch's pickler names (torch.XStorage).
int64_t storage_itemsize(const std::string& name) {
  static const std::map<std::string, int64_t> sizes = {
      {"ByteStorage", 1},  {"CharStorage", 1},   {"BoolStorage", 1},         {"ShortStorage", 2},
      {"HalfStorage", 2},  {"BFloat16Storage", 2}, {"IntStorage", 4},       {"FloatStorage", 4},
      {"LongStorage", 8},  {"DoubleStorage", 8}, {"ComplexFloatStorage", 8}, {"ComplexDoubleStorage", 16}};
  const auto it = sizes.find(name);
  return it == sizes.end() ? 0 : it->second;
}

// The globals LibTorch's pickler writes into a module archive. Each, called
// by REDUCE or BUILD, takes one argument off the stack and leaves one value,
// which is what the stack tracking below assumes; any other global is
// refused.
bool known_global(const std::string& module, const std::string& name) {
  if (module == "__torch__" || module.rfind("__torch__.", 0) == 0) return true;  // scripted classes
  if (module == "torch") return storage_itemsize(name) > 0;
  if (module == "torch._utils") return name == "_rebuild_tensor_v2";
  if (module == "collections") return name == "OrderedDict";
  if (module == "torch.jit._pickle")
    return name == "build_intlist" || name == "build_doublelist" || name == "build_boollist" ||
           name == "build_tensorlist" || name == "restore_type_tag";
  return false;
}

// Walks one pickle (protocol 2, the opcodes LibTorch's unpickler knows) the
// way LibTorch's unpickler will, checking before it allocates: every length
// against the bytes left, every memo index against the memo, every mark
// against the stack, every tensor's storage (element count x element size)
// against the record holding its bytes. `tensor_dir` is where this
// pickle's storages live ("" when it may hold none).
void check_pickle(const std::string& p, const std::string& tensor_dir,
                  const std::map<std::string, const Entry*>& by_name) {
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
  auto pop = [&]() {
    V v = stack.back();
    stack.pop_back();
    return v;
  };
  auto require = [&](size_t n) {
    if (stack.size() < n) corrupt("a pickle takes more values than its stack holds");
  };
  auto pop_mark = [&]() {
    if (marks.empty()) corrupt("a pickle closes a mark it never opened");
    const size_t start = marks.back();
    marks.pop_back();
    if (start > stack.size()) corrupt("a pickle's mark points past its stack");
    return start;
  };
  auto push_int = [&](int64_t i) {
    auto v = make(Value::kInt);
    v->i = i;
    stack.push_back(v);
  };
  auto tuple_of = [&](size_t start) {
    auto t = std::make_shared<Value>();
    t->kind = Value::kTuple;
    t->items.assign(stack.begin() + static_cast<std::ptrdiff_t>(start), stack.end());
    stack.resize(start);
    stack.push_back(t);
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
      case '.':  // STOP
        return;
      case '(':  // MARK
        marks.push_back(stack.size());
        break;
      case ')':  // EMPTY_TUPLE
        tuple_of(stack.size());
        break;
      case ']': case '}': case 0x88: case 0x89: case 'N':  // EMPTY_LIST, EMPTY_DICT, NEWTRUE, NEWFALSE, NONE
        stack.push_back(make(Value::kOther));
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
        stack.push_back(make(Value::kOther));
        break;
      case 'X': {  // BINUNICODE
        const uint64_t len = u(4);
        if (len > p.size() - at)
          corrupt("a pickle declares a string of " + std::to_string(len) + " bytes with " +
                  std::to_string(p.size() - at) + " left");
        auto v = std::make_shared<Value>();
        v->kind = Value::kStr;
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
      case 'e': case 'u': case 'l': case 'd': {  // APPENDS, SETITEMS, LIST, DICT
        const size_t start = pop_mark();
        // SETITEMS and DICT read key-value pairs; an odd count would make
        // LibTorch read one past its stack.
        if ((op == 'u' || op == 'd') && (stack.size() - start) % 2 != 0) corrupt("a pickle's dictionary has a key without a value");
        if ((op == 'e' || op == 'u') && start == 0) corrupt("a pickle adds items to nothing");
        stack.resize(start);
        if (op == 'l' || op == 'd') stack.push_back(make(Value::kOther));
        break;
      }
      case 's':  // SETITEM
        require(3);
        stack.resize(stack.size() - 2);
        break;
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
        auto g = std::make_shared<Value>();
        g->kind = Value::kGlobal;
        g->s = line();
        g->name = line();
        if (!known_global(g->s, g->name))
          corrupt("a pickle names '" + g->s.substr(0, 60) + "." + g->name.substr(0, 60) +
                  "', which LibTorch's writer never writes");
        stack.push_back(g);
        break;
      }
      case 0x81:  // NEWOBJ
        require(1);
        stack.pop_back();
        break;
      case 'b': case 'R':  // BUILD, REDUCE
        require(2);
        stack.resize(stack.size() - 2);
        stack.push_back(make(Value::kOther));
        break;
      case 'Q': {  // BINPERSID: a tensor's storage
        require(1);
        const V ref = pop();
        if (tensor_dir.empty()) corrupt("a pickle that holds no tensors refers to one");
        const auto& a = ref->items;
        if (ref->kind != Value::kTuple || a.size() != 5 || a[0]->kind != Value::kStr || a[0]->s != "storage" ||
            a[1]->kind != Value::kGlobal || a[1]->s != "torch" || a[2]->kind != Value::kStr ||
            a[3]->kind != Value::kStr || a[4]->kind != Value::kInt)
          corrupt("a pickle refers to a tensor storage in a form LibTorch's writer never writes");
        const int64_t itemsize = storage_itemsize(a[1]->name), numel = a[4]->i;
        if (numel < 0) corrupt("a tensor storage has " + std::to_string(numel) + " elements");
        if (numel > 0) {
          const std::string record = tensor_dir + a[2]->s;
          const auto it = by_name.find(lower(record));
          if (it == by_name.end()) corrupt("tensor record '" + record.substr(0, 80) + "' is missing");
          if (static_cast<uint64_t>(numel) > it->second->size / static_cast<uint64_t>(itemsize))
            corrupt("a tensor storage declares " + std::to_string(numel) + " elements of " + std::to_string(itemsize) +
                    " bytes, but its record '" + record.substr(0, 80) + "' holds " + std::to_string(it->second->size) +
                    " bytes");
        }
        stack.push_back(make(Value::kOther));
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

}  // namespace

void check_torch_archive(const std::string& bytes, const std::string& what) {
  try {
    const std::vector<Entry> entries = read_zip(bytes);
    std::map<std::string, const Entry*> by_name;
    for (const Entry& e : entries) by_name[lower(e.name)] = &e;
    // LibTorch's reader takes the first entry's folder as the archive's
    // root and reads root/data.pkl (tensors in root/data/), root/constants.pkl
    // (tensors in root/constants/) and the code's debug pickles.
    const std::string& first = entries.front().name;
    const size_t slash = first.find('/');
    if (slash == std::string::npos) corrupt("its first zip entry '" + first.substr(0, 80) + "' lies in no folder");
    const std::string root = lower(first.substr(0, slash + 1));
    for (const Entry& e : entries) {
      if (!ends_with_lower(e.name, ".pkl") && !ends_with_lower(e.name, ".debug_pkl")) continue;
      const std::string name = lower(e.name);
      const std::string dir = name == root + "data.pkl"        ? root + "data/"
                              : name == root + "constants.pkl" ? root + "constants/"
                                                               : std::string();
      try {
        check_pickle(entry_bytes(bytes, e), dir, by_name);
      } catch (const Corrupt& c) {
        corrupt(e.name.substr(0, 80) + ": " + c.reason);
      }
    }
  } catch (const Corrupt& c) {
    throw Error(what + " is corrupt: " + c.reason);
  }
}

}  // namespace genzoo
