// SPDX-License-Identifier: MIT
// C++ torture for the preload: exceptions thrown through many frames that each own heap
// memory (strings, vectors, unique_ptr, arrays from new[]), caught, rethrown, nested, carried
// across threads in std::exception_ptr; new[]/delete[] of objects with destructors; 4 threads
// doing it at once. Everything is released; the output is deterministic (a checksum of what
// was done), so a run under the profiler can be compared with a bare one.
#include <cstdio>
#include <exception>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Tracked {
	static thread_local long alive;
	std::string name;
	std::vector<int> data;
	explicit Tracked(int n) : name("tracked-" + std::to_string(n)), data(static_cast<size_t>(n % 17 + 1), n) { alive++; }
	Tracked() : Tracked(7) {}
	~Tracked() { alive--; }
};
thread_local long Tracked::alive = 0;

struct Failure : std::runtime_error {
	int depth;
	std::vector<std::string> trail;
	Failure(const std::string &what, int d) : std::runtime_error(what), depth(d) {}
};

// Each frame allocates, then either throws at the bottom or recurses; the frames' memory is
// released by unwinding.
__attribute__((noinline)) long descend(int depth, int bottom, long seed)
{
	std::vector<std::string> words;
	for (int i = 0; i < 3; i++)
		words.push_back(std::string(static_cast<size_t>(20 + depth), static_cast<char>('a' + i)));
	std::unique_ptr<Tracked> owned(new Tracked(depth));
	std::unique_ptr<Tracked[]> array(new Tracked[static_cast<size_t>(depth % 4 + 1)]);
	if (depth == bottom) {
		Failure f("bottom reached at depth " + std::to_string(depth), depth);
		f.trail.assign(words.begin(), words.end());
		throw f;
	}
	long r = descend(depth + 1, bottom, seed * 31 + depth);
	return r + static_cast<long>(words.size()) + owned->data.size();
}

// Catches, adds to the message, rethrows a different type from inside the handler.
__attribute__((noinline)) long middle(int bottom, long seed)
{
	std::map<int, std::string> scratch;
	for (int i = 0; i < 5; i++)
		scratch[i] = std::to_string(seed + i);
	try {
		return descend(0, bottom, seed);
	} catch (Failure &f) {
		f.trail.push_back(scratch[bottom % 5]);
		if (bottom % 3 == 0)
			throw; // the same object, rethrown
		throw std::out_of_range(std::string(f.what()) + " (" + std::to_string(f.trail.size()) + " trail entries)");
	}
}

long round_trip(int round)
{
	long sum = 0;
	int bottom = round % 40 + 1;
	try {
		sum += middle(bottom, round);
	} catch (const Failure &f) {
		sum += f.depth * 1000 + static_cast<long>(f.trail.size());
	} catch (const std::out_of_range &e) {
		sum += static_cast<long>(std::string(e.what()).size());
	}
	return sum;
}

// new[]/delete[] of objects with destructors and of plain arrays, in varying sizes.
long arrays(int round)
{
	size_t n = static_cast<size_t>(round % 50 + 1);
	Tracked *objs = new Tracked[n];
	long s = 0;
	for (size_t i = 0; i < n; i++)
		s += static_cast<long>(objs[i].data.size());
	delete[] objs;
	double *plain = new double[n * 8];
	plain[0] = static_cast<double>(s);
	s += static_cast<long>(plain[0]) % 7;
	delete[] plain;
	return s;
}

long worker(int id, int rounds, std::exception_ptr *carried)
{
	long sum = 0;
	for (int r = 0; r < rounds; r++) {
		sum += round_trip(r + id);
		sum += arrays(r * (id + 1));
	}
	// An exception made here and rethrown on the main thread.
	try {
		throw Failure("from thread " + std::to_string(id), id);
	} catch (...) {
		*carried = std::current_exception();
	}
	if (Tracked::alive != 0)
		std::printf("thread %d: %ld objects left alive\n", id, Tracked::alive);
	return sum;
}

} // namespace

int main()
{
	const int threads = 4, rounds = 1500;
	std::vector<long> sums(threads);
	std::vector<std::exception_ptr> carried(threads);
	std::vector<std::thread> pool;
	for (int t = 0; t < threads; t++)
		pool.emplace_back([t, &sums, &carried] { sums[static_cast<size_t>(t)] = worker(t, rounds, &carried[static_cast<size_t>(t)]); });
	for (auto &th : pool)
		th.join();
	long total = 0;
	for (int t = 0; t < threads; t++) {
		total += sums[static_cast<size_t>(t)];
		try {
			std::rethrow_exception(carried[static_cast<size_t>(t)]);
		} catch (const Failure &f) {
			std::printf("carried: %s (depth %d)\n", f.what(), f.depth);
		}
	}
	carried.clear();
	std::printf("checksum %ld over %d rounds in %d threads\n", total, rounds, threads);
	return total > 0 ? 0 : 1;
}
