// Params: the settings of one plugin (a policy, a provider, a metrics source), as flat keys.
//
// The config loader flattens a YAML mapping into dotted keys ("tolerance.up", "bands[0].above")
// with scalar string values, and the plugin's factory reads what it understands through a
// ParamReader. The reader collects every error with its full config path, and reports any key the
// plugin never asked for as unknown, so a typo is an error rather than a silently ignored setting.
#ifndef WARMPOOL_PARAMS_H_
#define WARMPOOL_PARAMS_H_

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "warmpool/status.h"
#include "warmpool/time.h"

namespace warmpool {

// Reads a whole file: handed to plugins that must not do I/O themselves (see Params::read_file).
using FileReader = std::function<Result<std::string>(const std::string& path)>;

struct Params {
  std::string path;      // where these came from, e.g. "pools[0].policies[1]"
  std::string base_dir;  // directory of the config file: relative file paths resolve against it
  std::map<std::string, std::string> values;
  // Reads a file the plugin names, for plugins that do no I/O themselves (a schedule policy's time
  // zone): the caller that loads the config hands its reader in. Empty: no file can be read.
  FileReader read_file = nullptr;
  // Values the config copied in from elsewhere (a haproxy fallback's socket, from the pool's
  // provider): key -> the config path where the value is written. Errors about such a key name that
  // path, the one the operator can fix, rather than path + "." + key, which is in no file.
  std::map<std::string, std::string> origins = {};
};

// How a value appears in an error: in double quotes, with '"' and '\\' escaped and newlines, tabs
// and other control characters written \n, \t, \r or \xNN, so that an error is always one line.
std::string QuoteValue(std::string_view text);
// `text` with its control characters written as QuoteValue writes them (no quotes added).
std::string EscapeControls(std::string_view text);

class ParamReader {
 public:
  explicit ParamReader(const Params& params) : params_(params) {}

  bool Has(std::string_view key) const;
  // Each getter returns the default when the key is absent, and records an error naming the path
  // and the value when it is present but malformed or out of [min, max].
  std::string String(std::string_view key, std::string def = "");
  // A string that must be there and not empty: "<path>.<key>: required (<what>)" otherwise.
  std::string Required(std::string_view key, std::string_view what);
  double Number(std::string_view key, double def, double min, double max);
  int Int(std::string_view key, int def, int min, int max);
  bool Bool(std::string_view key, bool def);
  DurationMs Duration(std::string_view key, DurationMs def, DurationMs min = 0);
  // One of `allowed`; an error lists them otherwise.
  std::string Enum(std::string_view key, std::string def, const std::vector<std::string>& allowed);

  // Records a free-form error for `key` ("pools[0].policies[0].target_per_server: <msg>"). The values
  // under `key` (its items, its nested settings) count as read: the error covers them.
  void Error(std::string_view key, std::string_view msg);
  std::string PathOf(std::string_view key) const;

  // Adds an error for every key that no getter touched, then returns all errors (empty = valid).
  // An unknown setting is named where it leaves what was read: "colour" for colour: {a: 1}, and
  // "exec.colour" beside exec.provision, one error each (an item of a list is never blamed whole).
  std::vector<std::string> Finish();
  // Finish, appending the errors to `errors`; true when there were none. The end of every factory.
  bool FinishInto(std::vector<std::string>* errors);

 private:
  const std::string* Raw(std::string_view key);
  const Params& params_;
  std::set<std::string, std::less<>> used_;
  std::vector<std::string> errors_;
};

}  // namespace warmpool

#endif  // WARMPOOL_PARAMS_H_
