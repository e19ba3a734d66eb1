// A fixture for the test rooms.rules_catch_a_forbidden_include: checked as if it were a file of the
// api room, it includes the networking library, which only the http room may, and the runtime, which
// sits above the api. The rules must refuse it.
#include <boost/beast/http.hpp>

#include "controller/runtime/app.h"
