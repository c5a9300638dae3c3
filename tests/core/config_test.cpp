#include "genzoo/core/config.h"

#include <gtest/gtest.h>

#include "genzoo/core/error.h"
#include "test_support.h"

namespace genzoo {
namespace {

TEST(Config, ReadsNestedTomlAsDottedKeys) {
  Config c = Config::from_toml("[optim]\nlr = 0.5\nname = \"sgd\"\n[train]\nepochs = 3\nx = true\n", "t");
  EXPECT_DOUBLE_EQ(c.get_double("optim.lr", 1), 0.5);
  EXPECT_EQ(c.get_string("optim.name", ""), "sgd");
  EXPECT_EQ(c.get_int("train.epochs", 0), 3);
  EXPECT_TRUE(c.get_bool("train.x", false));
  EXPECT_DOUBLE_EQ(c.get_double("train.epochs", 0), 3.0);  // an integer reads as a number
}

TEST(Config, DefaultsAreRecordedSoTheSavedConfigIsComplete) {
  Config c;
  EXPECT_EQ(c.get_int("train.batch_size", 64), 64);
  EXPECT_NE(c.to_toml().find("batch_size = 64"), std::string::npos);
}

TEST(Config, SetFromStringTypesValues) {
  Config c;
  c.set_from_string("a.int=7");
  c.set_from_string("a.float=1e-3");
  c.set_from_string("a.bool=false");
  c.set_from_string("a.bare=adam");
  c.set_from_string("a.quoted=\"x y\"");
  EXPECT_EQ(c.get_int("a.int", 0), 7);
  EXPECT_DOUBLE_EQ(c.get_double("a.float", 0), 1e-3);
  EXPECT_FALSE(c.get_bool("a.bool", true));
  EXPECT_EQ(c.get_string("a.bare", ""), "adam");
  EXPECT_EQ(c.get_string("a.quoted", ""), "x y");
}

TEST(Config, BadInputIsAnErrorNamingTheKey) {
  Config c;
  EXPECT_THROW(c.set_from_string("novalue"), Error);
  EXPECT_THROW(c.set_from_string("=3"), Error);
  EXPECT_THROW(c.set_from_string("bad key=3"), Error);
  c.set_from_string("train.epochs=abc");
  try {
    c.get_int("train.epochs", 1);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("train.epochs"), std::string::npos);
  }
  c.set_from_string("x.f=1.5");
  EXPECT_THROW(c.get_int("x.f", 0), Error);
  c.set_from_string("x.choice=nadam");
  EXPECT_THROW(c.get_choice("x.choice", "adam", {"adam", "sgd"}), Error);
  EXPECT_THROW(Config::from_toml("[a\nb=", "broken.toml"), Error);
  EXPECT_THROW(Config::from_file("/nonexistent/genzoo.toml"), Error);
}

TEST(Config, UnreadKeysAreReportedWithTheKnownOnes) {
  Config c;
  c.set_from_string("optim.lr=0.1");
  c.set_from_string("optim.lrr=0.1");
  c.get_double("optim.lr", 1);
  try {
    c.check_all_used();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("optim.lrr"), std::string::npos);
    EXPECT_NE(msg.find("known keys: optim.lr"), std::string::npos);
  }
}

TEST(Config, TomlRoundTripKeepsTypesAndValues) {
  Config c;
  c.set("model.name", std::string("independent"));
  c.set("optim.lr", 0.0123);
  c.set("train.epochs", int64_t{4});
  c.set("data.dequantize", true);
  Config d = Config::from_toml(c.to_toml(), "roundtrip");
  EXPECT_EQ(d.get_string("model.name", ""), "independent");
  EXPECT_DOUBLE_EQ(d.get_double("optim.lr", 0), 0.0123);
  EXPECT_EQ(d.get_int("train.epochs", 0), 4);
  EXPECT_TRUE(d.get_bool("data.dequantize", false));
  testing::TempDir dir;
  c.save(dir / "c.toml");
  EXPECT_EQ(Config::from_file(dir / "c.toml").values(), c.values());
}

}  // namespace
}  // namespace genzoo
