// SlidingVector<T>: a vector whose oldest elements can be dropped from the front cheaply, for windows
// that slide as time passes (a metric window's samples, behavior history, a policy's records).
#ifndef WARMPOOL_SLIDING_VECTOR_H_
#define WARMPOOL_SLIDING_VECTOR_H_

#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <stdexcept>
#include <utility>
#include <vector>

namespace warmpool {

// The same elements, in the same order, as a std::vector erased at its front, and contiguous like it
// (data() and the iterators are pointers). They live in one std::vector from `head_` on: DropFront
// advances head_, and the dead prefix is reclaimed (one move of the live elements to the start) once
// it is at least as long as what is left, so a window that drops one element and appends one per tick
// moves one element per tick on average instead of all of them. Pointers and references into it are
// invalidated by any change of size, as a std::vector's are.
template <typename T>
class SlidingVector {
 public:
  using value_type = T;
  using size_type = size_t;
  using iterator = T*;
  using const_iterator = const T*;
  using reverse_iterator = std::reverse_iterator<T*>;
  using const_reverse_iterator = std::reverse_iterator<const T*>;

  SlidingVector() = default;
  SlidingVector(std::initializer_list<T> init) : v_(init) {}
  SlidingVector(std::vector<T> v) : v_(std::move(v)) {}  // NOLINT: implicit, as a vector's contents

  size_t size() const { return v_.size() - head_; }
  bool empty() const { return head_ == v_.size(); }
  T* data() { return v_.data() + head_; }
  const T* data() const { return v_.data() + head_; }
  T* begin() { return data(); }
  T* end() { return v_.data() + v_.size(); }
  const T* begin() const { return data(); }
  const T* end() const { return v_.data() + v_.size(); }
  reverse_iterator rbegin() { return reverse_iterator(end()); }
  reverse_iterator rend() { return reverse_iterator(begin()); }
  const_reverse_iterator rbegin() const { return const_reverse_iterator(end()); }
  const_reverse_iterator rend() const { return const_reverse_iterator(begin()); }
  T& operator[](size_t i) { return v_[head_ + i]; }
  const T& operator[](size_t i) const { return v_[head_ + i]; }
  const T& at(size_t i) const {
    if (i >= size()) throw std::out_of_range("SlidingVector::at");
    return v_[head_ + i];
  }
  T& front() { return v_[head_]; }
  const T& front() const { return v_[head_]; }
  T& back() { return v_.back(); }
  const T& back() const { return v_.back(); }

  void push_back(const T& x) { v_.push_back(x); }
  void push_back(T&& x) { v_.push_back(std::move(x)); }
  void pop_back() {
    v_.pop_back();
    if (head_ == v_.size()) clear();
  }
  void clear() {
    v_.clear();
    head_ = 0;
  }
  void reserve(size_t n) { v_.reserve(head_ + n); }
  // Drops the first n elements (REQUIRES n <= size()), as erase(begin(), begin() + n) would.
  void DropFront(size_t n) {
    head_ += n;
    if (head_ == v_.size()) {
      clear();
    } else if (head_ >= v_.size() - head_) {
      v_.erase(v_.begin(), v_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }

 private:
  std::vector<T> v_;
  size_t head_ = 0;  // v_[0, head_) are dropped
};

}  // namespace warmpool

#endif  // WARMPOOL_SLIDING_VECTOR_H_
