// Compile-cost baseline: an empty program with <vector> and <string> only.
#include <string>
#include <vector>

int main() { return 0; }
