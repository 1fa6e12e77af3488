#pragma once
// The fixed parts of the timeline page: its markup, style and script (no
// network, no external file). timeline.cpp puts the data between them.

namespace shardrun::timeline_page {

extern const char* const kHead;    ///< doctype to the <meta>s, before <title>
extern const char* const kStyle;   ///< the CSS, inside <style>
extern const char* const kBody;    ///< the empty containers the script fills
extern const char* const kScript;  ///< reads #runs, draws the rows, list and tooltips

}  // namespace shardrun::timeline_page
