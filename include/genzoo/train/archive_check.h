#pragma once
// A LibTorch archive (checkpoint.pt, best.pt: a zip of pickles, tensor
// records and TorchScript) checked before LibTorch reads it.
//
// LibTorch 1.13 trusts the sizes written in the file: its zip reader
// allocates what an entry's header declares, its unpickler reserves the
// length a string opcode declares and a memo table as long as the largest
// index it sees, and a tensor's storage takes its size from the pickle, not
// from the record holding the bytes -- so a damaged 30 kB file can make it
// allocate gigabytes, or build a tensor that reads past its data. This check
// walks the zip directory and every pickle the way LibTorch will, and
// refuses a file whose declared sizes its bytes cannot back.
#include <string>

namespace genzoo {

// Throws genzoo::Error("... is corrupt: <reason>") naming `what` when
// `bytes` is not an archive LibTorch can read within the sizes the file
// justifies. Accepts what torch::serialize::OutputArchive writes for
// genzoo (LibTorch 1.13): a zip with stored or deflated entries; pickles
// of protocol 2, stored, under 1 MiB, with dense tensors of real and
// complex types, modules and dictionaries; module classes with attributes
// and no methods. Quantized or sparse tensors, devices and scripted methods
// are refused, as genzoo never writes them.
void check_torch_archive(const std::string& bytes, const std::string& what);

}  // namespace genzoo
