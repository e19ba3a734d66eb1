// The REST API's tokens file, read and checked into ApiTokens:
//
//   tokens:
//     - {name: alice, role: admin, token: "..."}
//     - {name: grafana, role: read, token_file: grafana.token}   # relative to this file
#ifndef WARMPOOL_CONTROLLER_CONFIG_TOKENS_FILE_H_
#define WARMPOOL_CONTROLLER_CONFIG_TOKENS_FILE_H_

#include <string>

#include "controller/api/tokens.h"
#include "warmpool/status.h"

namespace warmpool {

// Reads and validates the file. Errors name the path and the entry: "tokens.yaml: tokens[1]
// (grafana): role must be read or admin, got \"writer\"". Checks: a `tokens` sequence of mappings
// with exactly the keys name, role and one of token / token_file; names and tokens unique; a token
// at least ApiTokens::kMinTokenLength characters of printable ASCII without spaces.
Result<ApiTokens> LoadApiTokens(const std::string& path);
// The same from text; `path` names the file in errors and token_file is relative to its directory.
Result<ApiTokens> ParseApiTokens(const std::string& text, const std::string& path);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_CONFIG_TOKENS_FILE_H_
