// A stand-in for the subset of p-ranav/argparse that pytorch/examples'
// cpp/dcgan/dcgan.cpp uses (one integer option given as "--name value"),
// so bench/run-dcgan-epoch can build that example unchanged on a machine
// without the library. Written for genzoo; not the library's code.
#pragma once
#include <cstdint>
#include <map>
#include <ostream>
#include <stdexcept>
#include <string>

namespace argparse {

class Argument {
 public:
  Argument& help(std::string text) {
    help_ = std::move(text);
    return *this;
  }
  Argument& default_value(std::int64_t v) {
    value_ = v;
    return *this;
  }
  template <char Kind, typename T>
  Argument& scan() {
    static_assert(Kind == 'i', "only integer options are supported");
    return *this;
  }
  std::int64_t value_ = 0;
  std::string help_;
};

class ArgumentParser {
 public:
  explicit ArgumentParser(std::string program) : program_(std::move(program)) {}
  Argument& add_argument(const std::string& name) { return arguments_[name]; }
  void parse_args(int argc, const char* argv[]) {
    for (int i = 1; i < argc; ++i) {
      auto it = arguments_.find(argv[i]);
      if (it == arguments_.end()) throw std::runtime_error(std::string("unknown argument: ") + argv[i]);
      if (i + 1 >= argc) throw std::runtime_error(std::string("missing value for ") + argv[i]);
      it->second.value_ = std::stoll(argv[++i]);
    }
  }
  template <typename T>
  T get(const std::string& name) const {
    return static_cast<T>(arguments_.at(name).value_);
  }
  friend std::ostream& operator<<(std::ostream& out, const ArgumentParser& p) {
    out << "usage: " << p.program_ << '\n';
    for (const auto& [name, arg] : p.arguments_) out << "  " << name << " N  " << arg.help_ << '\n';
    return out;
  }

 private:
  std::string program_;
  std::map<std::string, Argument> arguments_;
};

}  // namespace argparse
