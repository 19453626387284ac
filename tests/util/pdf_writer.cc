#include "util/pdf_writer.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace mosaic::testing {
namespace {

using Bytes = std::string;

// PDF 1.7, 7.6.3.3, Algorithm 2 step a: the padding string.
constexpr unsigned char kPad[32] = {0x28, 0xBF, 0x4E, 0x5E, 0x4E, 0x75, 0x8A, 0x41, 0x64, 0x00, 0x4E,
                                    0x56, 0xFF, 0xFA, 0x01, 0x08, 0x2E, 0x2E, 0x00, 0xB6, 0xD0, 0x68,
                                    0x3E, 0x80, 0x2F, 0x0C, 0xA9, 0xFE, 0x64, 0x53, 0x69, 0x7A};

Bytes Md5(const Bytes& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), out, &n, EVP_md5(), nullptr);
  return Bytes(reinterpret_cast<char*>(out), n);
}

Bytes Rc4(const Bytes& key, const Bytes& data) {
  std::array<uint8_t, 256> s;
  for (int i = 0; i < 256; ++i) s[i] = static_cast<uint8_t>(i);
  for (int i = 0, j = 0; i < 256; ++i) {
    j = (j + s[i] + static_cast<uint8_t>(key[i % key.size()])) & 255;
    std::swap(s[i], s[j]);
  }
  Bytes out(data.size(), '\0');
  for (size_t k = 0, i = 0, j = 0; k < data.size(); ++k) {
    i = (i + 1) & 255;
    j = (j + s[i]) & 255;
    std::swap(s[i], s[j]);
    out[k] = static_cast<char>(static_cast<uint8_t>(data[k]) ^ s[(s[i] + s[j]) & 255]);
  }
  return out;
}

Bytes PadPassword(const std::string& pw) {
  Bytes p = pw.substr(0, 32);
  p.append(reinterpret_cast<const char*>(kPad), 32 - p.size());
  return p;
}

// Revision 3 repeats the RC4 pass 19 more times with the key XORed by the pass number.
Bytes Rc4Rounds(const Bytes& key, Bytes data, int revision) {
  data = Rc4(key, data);
  if (revision >= 3) {
    for (int i = 1; i <= 19; ++i) {
      Bytes k = key;
      for (char& c : k) c = static_cast<char>(c ^ i);
      data = Rc4(k, data);
    }
  }
  return data;
}

struct Security {
  int revision = 3;
  size_t key_len = 16;
  int32_t p = -4;  // all permissions
  Bytes o, u, key, id;
};

Security MakeSecurity(const PdfSpec& spec, const Bytes& id) {
  Security s;
  s.revision = spec.revision;
  s.key_len = spec.revision >= 3 ? 16 : 5;
  s.id = id;
  // Algorithm 3: the O entry.
  Bytes h = Md5(PadPassword(spec.owner_password.empty() ? spec.user_password : spec.owner_password));
  if (s.revision >= 3)
    for (int i = 0; i < 50; ++i) h = Md5(h);
  s.o = Rc4Rounds(h.substr(0, s.key_len), PadPassword(spec.user_password), s.revision);
  // Algorithm 2: the file key.
  Bytes in = PadPassword(spec.user_password) + s.o;
  uint32_t p = static_cast<uint32_t>(s.p);
  for (int i = 0; i < 4; ++i) in.push_back(static_cast<char>((p >> (8 * i)) & 255));
  in += id;
  Bytes k = Md5(in);
  if (s.revision >= 3)
    for (int i = 0; i < 50; ++i) k = Md5(k.substr(0, s.key_len));
  s.key = k.substr(0, s.key_len);
  // Algorithms 4 and 5: the U entry.
  if (s.revision == 2) {
    s.u = Rc4(s.key, Bytes(reinterpret_cast<const char*>(kPad), 32));
  } else {
    s.u = Rc4Rounds(s.key, Md5(Bytes(reinterpret_cast<const char*>(kPad), 32) + id), 3);
    s.u.append(16, '\0');
  }
  return s;
}

// Algorithm 1: the per-object RC4 key.
Bytes ObjectKey(const Security& s, int num) {
  Bytes in = s.key;
  for (int i = 0; i < 3; ++i) in.push_back(static_cast<char>((num >> (8 * i)) & 255));
  in.append(2, '\0');  // generation 0
  return Md5(in).substr(0, std::min<size_t>(s.key_len + 5, 16));
}

std::string Hex(const Bytes& b) {
  static const char* kDigits = "0123456789ABCDEF";
  std::string out = "<";
  for (unsigned char c : b) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out + ">";
}

// A literal-string body with (, ) and \ escaped.
std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '(' || c == ')' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

class Writer {
 public:
  explicit Writer(const Security* sec) : sec_(sec) {}

  // A string object in object `num`, encrypted when the file is.
  std::string Str(int num, const std::string& s) const {
    return Hex(sec_ != nullptr ? Rc4(ObjectKey(*sec_, num), s) : s);
  }

  void Object(int num, const std::string& body) {
    if (offsets_.size() <= static_cast<size_t>(num)) offsets_.resize(num + 1, 0);
    offsets_[num] = out_.size();
    out_ += std::to_string(num) + " 0 obj\n" + body + "\nendobj\n";
  }

  void Stream(int num, const std::string& data) {
    std::string d = sec_ != nullptr ? Rc4(ObjectKey(*sec_, num), data) : data;
    Object(num, "<< /Length " + std::to_string(d.size()) + " >>\nstream\n" + d + "\nendstream");
  }

  std::string Finish(const std::string& trailer_extra) {
    size_t xref = out_.size();
    out_ += "xref\n0 " + std::to_string(offsets_.size()) + "\n0000000000 65535 f \n";
    char line[32];
    for (size_t i = 1; i < offsets_.size(); ++i) {
      std::snprintf(line, sizeof(line), "%010zu 00000 n \n", offsets_[i]);
      out_ += line;
    }
    out_ += "trailer\n<< /Size " + std::to_string(offsets_.size()) + " /Root 1 0 R /Info 4 0 R" +
            trailer_extra + " >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
    return std::move(out_);
  }

  std::string& out() { return out_; }

 private:
  const Security* sec_;
  std::string out_;
  std::vector<size_t> offsets_{0};
};

}  // namespace

std::string WritePdf(const PdfSpec& spec) {
  const Bytes id = Md5(spec.title + spec.author + std::to_string(spec.pages.size()));
  Security sec;
  const bool encrypt = !spec.user_password.empty();
  if (encrypt) sec = MakeSecurity(spec, id);
  Writer w(encrypt ? &sec : nullptr);
  w.out() = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";

  const int first_page_obj = 6;
  std::string kids;
  for (size_t i = 0; i < spec.pages.size(); ++i)
    kids += std::to_string(first_page_obj + 2 * static_cast<int>(i)) + " 0 R ";
  w.Object(1, "<< /Type /Catalog /Pages 2 0 R >>");
  w.Object(2, "<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(spec.pages.size()) +
                  " >>");
  w.Object(3, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
  std::string info = "<< /Producer " + w.Str(4, "mosaic pdf_writer");
  if (!spec.title.empty()) info += " /Title " + w.Str(4, spec.title);
  if (!spec.author.empty()) info += " /Author " + w.Str(4, spec.author);
  if (!spec.creation_date.empty()) info += " /CreationDate " + w.Str(4, spec.creation_date);
  w.Object(4, info + " >>");
  if (encrypt) {
    w.Object(5, "<< /Filter /Standard /V " + std::string(sec.revision >= 3 ? "2" : "1") +
                    " /R " + std::to_string(sec.revision) + " /Length " +
                    std::to_string(sec.key_len * 8) + " /O " + Hex(sec.o) + " /U " + Hex(sec.u) +
                    " /P " + std::to_string(sec.p) + " >>");
  } else {
    w.Object(5, "null");
  }

  const double leading = spec.font_size * 1.25;
  for (size_t i = 0; i < spec.pages.size(); ++i) {
    int page_obj = first_page_obj + 2 * static_cast<int>(i);
    std::string content = "BT\n/F1 " + std::to_string(spec.font_size) + " Tf\n" +
                          std::to_string(leading) + " TL\n72 740 Td\n";
    for (const std::string& line : spec.pages[i]) {
      if (!line.empty()) content += "(" + Escape(line) + ") Tj\n";
      content += "T*\n";
    }
    content += "ET";
    w.Object(page_obj, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font "
                       "<< /F1 3 0 R >> >> /Contents " +
                           std::to_string(page_obj + 1) + " 0 R >>");
    w.Stream(page_obj + 1, content);
  }
  std::string trailer = " /ID [" + Hex(id) + " " + Hex(id) + "]";
  if (encrypt) trailer += " /Encrypt 5 0 R";
  return w.Finish(trailer);
}

}  // namespace mosaic::testing
