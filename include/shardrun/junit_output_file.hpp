#pragma once
// A buffered, checked writer over a POSIX file descriptor, with the XML
// writing primitives the report needs. Every libc call is checked; failures
// throw shardrun::Error (exit 3) naming the path and strerror.

#include <filesystem>
#include <string>
#include <string_view>

#include "shardrun/junit_text.hpp"

namespace shardrun::junit::detail {

class OutputFile {
 public:
  /// Creates a new empty file `dir/<prefix>XXXXXX` (mkstemp, mode 0600). With
  /// `anonymous` the name is unlinked at once, so the file vanishes with the
  /// descriptor even if the process dies.
  static OutputFile create_temp(const std::filesystem::path& dir, const std::string& prefix,
                                bool anonymous);

  OutputFile(OutputFile&& other) noexcept;
  OutputFile& operator=(OutputFile&&) = delete;
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  /// Closes the descriptor and removes a named file that was not renamed.
  ~OutputFile();

  const std::filesystem::path& path() const { return path_; }

  /// Appends bytes as they are (markup).
  void write(std::string_view raw);
  /// Appends sanitised, escaped text (see append_sanitized).
  void write_text(std::string_view text, Escape mode);
  /// Appends `<![CDATA[text]]>`, sanitised, with "]]>" split across sections.
  void write_cdata(std::string_view text);
  /// Appends ` name="value"` with the value sanitised and escaped.
  void write_attr(std::string_view name, std::string_view value);

  /// Writes the buffer out.
  void flush();
  /// Appends the whole content of `other` (flushed first), read back from its descriptor.
  void append_file(OutputFile& other);
  /// Sets the permission bits.
  void chmod(unsigned mode);
  /// flush() + fsync() + close(), all checked.
  void sync_and_close();
  /// Atomically renames the (closed) file to `target`; afterwards the
  /// destructor leaves it alone.
  void rename_to(const std::filesystem::path& target);

 private:
  OutputFile(int fd, std::filesystem::path path, bool named);
  [[noreturn]] void fail(std::string_view what) const;
  void flush_if_full();

  int fd_ = -1;
  std::filesystem::path path_;
  bool named_ = false;  // a directory entry exists that the destructor must remove
  std::string buf_;
};

/// Best-effort fsync of a directory, so a rename inside it is durable.
void sync_directory(const std::filesystem::path& dir);

}  // namespace shardrun::junit::detail
