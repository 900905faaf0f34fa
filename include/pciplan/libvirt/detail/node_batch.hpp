// pciplan — libvirt/detail/node_batch.hpp: new elements written as text and spliced into the printed document.
//
// The writer adds an `<address>` to every device and a `<controller>` per added
// controller. Building them node by node costs an allocation and a lookup per attribute,
// and printing them costs as much again; a batch collects all of them as text, in
// pieces, each piece with the place its nodes go. Before the document is printed, a
// marker (a processing instruction no input uses) stands in each place; the printed
// text then gets each piece's text where its marker is. The pieces are written in the
// form the document printer writes (single quotes, `<x/>`, pugixml's escapes), so the
// result is the text the document would print with the elements inserted. A document
// used again afterwards (one device element printed, a second write) first gets the
// elements themselves in place of the markers (`materialize`, the one parse paid only then).
#ifndef PCIPLAN_LIBVIRT_DETAIL_NODE_BATCH_HPP
#define PCIPLAN_LIBVIRT_DETAIL_NODE_BATCH_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/detail/numbers.hpp>

#include <pugixml.hpp>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pciplan::inline v0::libvirt::detail {

/// Where the text of one piece goes.
enum class piece_place : unsigned char {
  append_to,  ///< at the end of `where`'s children
  before,     ///< right before `where`
  after,      ///< right after `where`
  replace,    ///< in place of `where`, which is removed
};

class node_batch {
 public:
  /// The text of the pieces so far; write a piece here, then call `end_piece`.
  std::string text;

  /// Makes room for `pieces` pieces of about `bytes_each` bytes.
  void reserve(std::size_t pieces, std::size_t bytes_each) {
    text.reserve(pieces * bytes_each);
    pieces_.reserve(pieces);
  }

  /// Ends the piece written since the last one: its text goes `how` relative to `where`.
  void end_piece(piece_place how, pugi::xml_node where) {
    const std::size_t start = pieces_.empty() ? 0 : pieces_.back().end;
    pieces_.push_back(piece{how, where, start, text.size()});
  }
  /// Adds what was written since the last piece ended to that piece (it goes right
  /// after the last piece's text).
  void extend_piece() {
    if (!pieces_.empty()) pieces_.back().end = text.size();
  }

  /// Puts a marker in the place of every piece (`document_text`: the text the document
  /// was read from, which the marker's name must not occur in). Call `splice` on the
  /// printed document afterwards.
  void mark(std::string_view document_text) {
    marker_ = "pciplan-piece";
    while (document_text.find(marker_) != std::string_view::npos) marker_ += '-';
    std::string id;
    for (std::size_t k = 0; k != pieces_.size(); ++k) {
      piece& p = pieces_[k];
      pugi::xml_node m;
      switch (p.how) {
        case piece_place::append_to:
          m = p.where.append_child(pugi::node_pi);
          break;
        case piece_place::before:
        case piece_place::replace:
          m = p.where.parent().insert_child_before(pugi::node_pi, p.where);
          break;
        case piece_place::after:
          m = p.where.parent().insert_child_after(pugi::node_pi, p.where);
          break;
      }
      if (!m) throw std::logic_error("pciplan::libvirt: a new element has no place in the document");
      p.marker = m;
      m.set_name(marker_.c_str());
      id.clear();
      pciplan::detail::append_decimal(id, k);
      m.set_value(id.c_str());
      if (p.how == piece_place::replace) p.where.parent().remove_child(p.where);
    }
  }

  /// Makes the document hold the pieces' elements in place of the markers (for a
  /// document used again after it was printed); the batch is empty afterwards.
  void materialize() {
    for (piece& p : pieces_) {
      if (!p.marker) continue;
      pugi::xml_node parent = p.marker.parent();
      const pugi::xml_node last = parent.last_child();  // the parsed nodes come after it
      const pugi::xml_parse_result parsed = parent.append_buffer(
          text.data() + p.start, p.end - p.start, pugi::parse_default | pugi::parse_ws_pcdata, pugi::encoding_utf8);
      if (!parsed) throw std::logic_error("pciplan::libvirt: the writer's own XML did not parse");
      for (pugi::xml_node n = last.next_sibling(); n;) {
        const pugi::xml_node next = n.next_sibling();
        parent.insert_move_before(n, p.marker);
        n = next;
      }
      parent.remove_child(p.marker);
    }
    pieces_.clear();
    text.clear();
  }

  /// The printed document with each marker replaced by its piece's text.
  [[nodiscard]] std::string splice(std::string_view printed) const {
    if (pieces_.empty()) return std::string(printed);
    std::string out;
    out.reserve(printed.size() + text.size());
    // a marker is "<?" marker_ " " digits "?>"; look for its '?' (rare in a document: a
    // processing instruction or the declaration), not for its '<' (one per element)
    const std::string_view name = marker_;
    std::size_t at = 0;
    std::size_t found = 0;
    for (std::size_t q = printed.find('?'); q != std::string_view::npos; q = printed.find('?', q + 1)) {
      if (q == 0 || printed[q - 1] != '<' || printed.substr(q + 1, name.size()) != name ||
          printed.substr(q + 1 + name.size(), 1) != " ") {
        continue;
      }
      const std::size_t m = q - 1;
      out.append(printed.substr(at, m - at));
      std::size_t k = 0;
      std::size_t i = q + 2 + name.size();
      while (i < printed.size() && printed[i] >= '0' && printed[i] <= '9') {
        k = k * 10 + static_cast<std::size_t>(printed[i++] - '0');
      }
      if (k >= pieces_.size() || printed.substr(i, 2) != "?>") {
        throw std::logic_error("pciplan::libvirt: a marker of the writer was not printed as written");
      }
      out.append(std::string_view(text).substr(pieces_[k].start, pieces_[k].end - pieces_[k].start));
      at = i + 2;
      q = i + 1;
      ++found;
    }
    if (found != pieces_.size()) throw std::logic_error("pciplan::libvirt: a new element of the writer was not printed");
    out.append(printed.substr(at));
    return out;
  }

 private:
  struct piece {
    piece_place how;
    pugi::xml_node where;
    std::size_t start;  // its text: text[start, end)
    std::size_t end;
    pugi::xml_node marker{};  // once marked
  };
  std::vector<piece> pieces_;
  std::string marker_;
};

}  // namespace pciplan::inline v0::libvirt::detail

#endif  // PCIPLAN_LIBVIRT_DETAIL_NODE_BATCH_HPP
