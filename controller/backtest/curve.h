// A cost curve: (server-hours, unserved requests) points, such as the HPA baseline run at several
// targets, and the two readings a user compares a run with it by:
//   - unserved at equal server-hours: what the curve leaves unserved at the run's hours;
//   - server-hours at equal unserved: what the curve spends to leave the run's unserved requests.
// Both read the curve's lower envelope (its Pareto front: the points no other point beats on both; a
// point that spends more and serves less is not one anyone would choose), between its points linear in
// server-hours and in log10(1 + unserved). Between two targets HPA's unserved requests fall about
// exponentially with the hours it spends (NASA: 26179, 11766, 4745, 1921 at 2341, 2548, 2824, 3180 h),
// so a straight chord in unserved would credit HPA with more unserved than it leaves and flatter what
// is compared with it (a month of 3%-a-day growth: 8517 at 6284 h, 117 at 7052 h; at 6940 h the chord
// says 1342, this line 220). The HTML report draws the same line on its log scale.
// Pure functions, no I/O.
#ifndef WARMPOOL_CONTROLLER_BACKTEST_CURVE_H_
#define WARMPOOL_CONTROLLER_BACKTEST_CURVE_H_

#include <string>
#include <vector>

namespace warmpool {

struct CurvePoint {
  double hours = 0;     // total server-hours
  double unserved = 0;  // unserved requests
};

// Where the value read lies against the range the curve covers.
enum class CurveSide {
  kInside,      // interpolated on the curve
  kBelowRange,  // the input is below every point's (fewer hours, or fewer unserved, than any)
  kAboveRange,  // the input is above every point's
  kNoCurve,     // no points
};

struct CurveReading {
  CurveSide side = CurveSide::kNoCurve;
  // Inside: the interpolated value. Outside: the value at the curve's nearest end (a bound, not a
  // reading). No curve: 0.
  double value = 0;
  // The range of the input the curve covers: [lo, hi] hours or unserved requests.
  double lo = 0, hi = 0;
  bool inside() const { return side == CurveSide::kInside; }
};

// The lower envelope of `points`: sorted by increasing hours, each with strictly fewer unserved
// requests than the one before (points that spend as much or more and leave as many or more are
// dropped; of equal points the first is kept).
std::vector<CurvePoint> CurveEnvelope(const std::vector<CurvePoint>& points);

// The curve's unserved requests at `hours` (interpolated as above). The range covered is [fewest hours, most hours] of all
// points: past the envelope's last point up to the most hours, the curve holds that point's unserved
// (spending more gained nothing).
CurveReading UnservedAtHours(const std::vector<CurvePoint>& points, double hours);

// The curve's server-hours to leave `unserved` requests unserved: the fewest hours on the envelope
// whose interpolated unserved (as above) is `unserved`. The range covered is [the envelope's least unserved, its
// most] (its last and first points).
CurveReading HoursAtUnserved(const std::vector<CurvePoint>& points, double unserved);

// "0.432x" for mine / theirs (3 significant digits); "both 0" when both are 0; "inf" when only theirs is 0.
std::string RatioText(double mine, double theirs);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_BACKTEST_CURVE_H_
