// SPDX-License-Identifier: MIT
// Sample: C++ allocations. Objects with new/delete, arrays with new[]/delete[], std::vector
// and std::string growth, and exceptions thrown through frames that allocate (the
// exception object itself is allocated by __cxa_allocate_exception). Everything is freed
// except one Session object leaked on the error path of Server::handle():
//
//   definitely lost: 48 bytes in 1 blocks, allocated by operator new in Server::handle
//
// Names in the report are demangled: Server::handle(int), not _ZN6Server6handleEi.
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

struct Session {
	int id;
	std::string *user;   // points at nothing owned: kept simple, 48 bytes with the rest
	long stats[4];
};

class Server {
public:
	__attribute__((noinline)) long handle(int request)
	{
		Session *s = new Session{ request, nullptr, { 0, 0, 0, 0 } };

		if (request % 7 == 3) {
			// Bug: the session is not deleted when the request is rejected.
			if (request == 3)
				return -1;
			delete s;
			throw std::runtime_error("bad request " + std::to_string(request));
		}
		std::unique_ptr<double[]> scratch(new double[64]);
		for (int i = 0; i < 64; i++)
			scratch[i] = request * i;
		history_.push_back(std::to_string(request) + ":" + std::to_string(scratch[63]));
		long r = s->id;
		delete s;
		return r;
	}

private:
	std::vector<std::string> history_;
};

int main()
{
	Server server;
	long ok = 0, failed = 0;

	for (int r = 0; r < 40; r++) {
		try {
			ok += server.handle(r) >= 0;
		} catch (const std::exception &) {
			failed++;
		}
	}
	char line[64];
	int n = std::snprintf(line, sizeof(line), "ok %ld failed %ld\n", ok, failed);
	return write(1, line, (size_t)n) == n ? 0 : 1;
}
