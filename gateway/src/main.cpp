#include <cstdio>

int main() {
    std::fputs("ariadne: the server is not built yet\n", stderr);
    return 1;
}
